import Foundation
import Testing

/// Runs the built `edge-agent` binary as a technician would.
@Suite("edge-agent command line")
struct CommandLineTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("edge-agent")
    }

    struct Outcome {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    func run(_ arguments: [String], environment: [String: String] = [:], in folder: TemporaryFolder) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder.path)
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }

    @Test("a configuration typo exits 2 with one line naming it")
    func configurationTypo() throws {
        let folder = TemporaryFolder()
        try "http:\n  prot: 80\n".write(toFile: folder.file("config.yaml"), atomically: true, encoding: .utf8)
        let fromFile = try run(["serve", "--config", "config.yaml"], in: folder)
        #expect(fromFile.status == 2)
        #expect(
            fromFile.standardError
                == "edge-agent: configuration error: unknown key 'http.prot' in config.yaml line 2 (did you mean 'http.port'?)\n"
        )

        let fromEnvironment = try run(["serve"], environment: ["EDGE_HTTP_PORT": "http"], in: folder)
        #expect(fromEnvironment.status == 2)
        #expect(fromEnvironment.standardError.split(separator: "\n").count == 1)
        #expect(fromEnvironment.standardError.contains("EDGE_HTTP_PORT"))
    }

    @Test("--check-config prints every setting with secrets masked and exits 0")
    func checkConfig() throws {
        let folder = TemporaryFolder()
        let outcome = try run(
            ["serve", "--check-config"],
            environment: ["TWILIO_AUTH_TOKEN": "very-secret-token", "EDGE_HTTP_PORT": "9090"],
            in: folder)
        #expect(outcome.status == 0)
        #expect(outcome.standardOutput.contains("http.port"))
        #expect(outcome.standardOutput.contains("= 9090  [environment EDGE_HTTP_PORT"))
        #expect(!outcome.standardOutput.contains("very-secret-token"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("edge-agent-data")))
    }

    @Test("demo places a whole call with no accounts and no network, and shows what was stored")
    func demo() throws {
        let folder = TemporaryFolder()
        let outcome = try run(["demo"], in: folder)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("Caller: Hi, I'd like a table for four tomorrow at seven thirty."))
        #expect(outcome.standardOutput.contains("reservation "))
        #expect(outcome.standardOutput.contains("Ada Lovelace, party of 4"))
        #expect(outcome.standardOutput.contains("Calls: 1, ended by the agent after goodbye: 1, reservations: 1"))
    }

    @Test("demo --separate-callers drives the agent with edge-agent simulate in a second process")
    func demoWithSimulateProcess() throws {
        let folder = TemporaryFolder()
        let outcome = try run(["demo", "--calls", "2", "--separate-callers"], in: folder)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("The callers' process reported:"))
        #expect(outcome.standardOutput.contains("response latency: p50"))
        #expect(outcome.standardOutput.contains("frame pacing error: p50"))
        #expect(outcome.standardOutput.contains("Calls: 2, ending in a booking: 2, reservations: 2"))
    }

    @Test("simulate refuses to call without the webhook token")
    func simulateWithoutToken() throws {
        let outcome = try run(["simulate", "--url", "http://127.0.0.1:9"], in: TemporaryFolder())
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("TWILIO_AUTH_TOKEN"))
    }

    @Test("a damaged database exits 1 with one line and is not touched")
    func damagedDatabase() throws {
        let folder = TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.file("data"), withIntermediateDirectories: true)
        let junk = Data(repeating: 7, count: 4096)
        try junk.write(to: URL(fileURLWithPath: folder.file("data/edge.sqlite")))
        let outcome = try run(["serve"], environment: ["EDGE_DATA_DIR": "data", "EDGE_HTTP_PORT": "0"], in: folder)
        #expect(outcome.status == 1)
        #expect(outcome.standardError.hasPrefix("edge-agent: database data/edge.sqlite is not a SQLite database"))
        #expect(outcome.standardError.split(separator: "\n").count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("data/edge.sqlite"))) == junk)
    }
}
