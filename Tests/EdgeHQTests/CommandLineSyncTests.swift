import EdgeHQ
import Foundation
import GRDB
import LocalStore
import Logging
import StoreTestSupport
import TestSupport
import Testing

/// The programs as a technician runs them: `edge-hq migrate | sites | enrol-token | devices | serve`
/// against the test PostgreSQL, and `edge-agent provision | sync now | sync status` against that
/// `edge-hq`.
@Suite("edge-hq and edge-agent sync, from the command line", .serialized)
struct CommandLineSyncTests {
    typealias Outcome = ChildProcess.Outcome

    static func binary(_ name: String) -> URL { BuiltProgram.url(name) }

    /// Runs one of the package's programs with `environment` added to the system's `PATH`.
    static func run(_ program: String, _ arguments: [String], environment: [String: String]) async throws
        -> Outcome
    {
        try await ChildProcess.run(binary(program), arguments, environment: environment)
    }

    /// Starts `edge-hq serve` on a free port; returns the process and its URL once it listens.
    static func startServer(environment: [String: String]) async throws -> (Process, String) {
        let process = Process()
        process.executableURL = binary("edge-hq")
        process.arguments = ["serve"]
        process.environment = ["PATH": ChildProcess.systemPath].merging(environment) { $1 }
        let error = Pipe()
        process.standardError = error
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // "... Server started and listening on 127.0.0.1:PORT"
        let port = await ChildOutput.watch(error.fileHandleForReading) { line -> Int? in
            guard line.contains("listening on 127.0.0.1:"),
                let range = line.range(of: #"127\.0\.0\.1:\d+$"#, options: .regularExpression)
            else { return nil }
            return Int(line[range].split(separator: ":").last!)
        }
        guard let port else {
            process.terminate()
            throw ServerFailed()
        }
        return (process, "http://127.0.0.1:\(port)")
    }

    struct ServerFailed: Error {}

    /// Records one incoming call `sid` in the box's database in `folder` (so into its outbox), as the agent would.
    static func addCall(folder: String, sid: String) async throws {
        let database = try EdgeDatabase(dataDirectory: folder, logger: Logger(label: "box"))
        _ = try await CallLog(database: database).inbound(callSid: sid)
        try database.close()
    }

    @Test("a site, a token, a box enrolled with it, its outbox sent by sync now; revoked, it is refused and says so")
    func technicianFlow() async throws {
        try await HQTestDatabase.withFreshDatabase { location in
            let databaseURL =
                "postgres://\(location.username):\(location.password ?? "")@\(location.host):\(location.port)/\(location.database)"
            let hqEnvironment = ["EDGE_HQ_DATABASE_URL": databaseURL]
            let migrate = try await Self.run("edge-hq", ["migrate"], environment: hqEnvironment)
            #expect(migrate.status == 0, "\(migrate.standardError)")
            let site = try await Self.run("edge-hq", ["sites", "add", "Trattoria Roma"], environment: hqEnvironment)
            #expect(site.status == 0, "\(site.standardError)")
            let siteID = site.lastLine
            #expect(UUID(uuidString: siteID) != nil)
            #expect(
                try await Self.run("edge-hq", ["sites", "list"], environment: hqEnvironment).standardOutput.contains(
                    "Trattoria Roma"))
            let token = try await Self.run("edge-hq", ["enrol-token", siteID], environment: hqEnvironment)
            #expect(token.status == 0)

            // Serving needs TLS unless plain HTTP is allowed.
            let refused = try await Self.run("edge-hq", ["serve"], environment: hqEnvironment)
            #expect(refused.status == 2 && refused.standardError.contains("EDGE_HQ_TLS_CERT"))

            let (server, url) = try await Self.startServer(
                environment: hqEnvironment.merging(["EDGE_HQ_ALLOW_HTTP": "1", "EDGE_HQ_HTTP_PORT": "0"]) { $1 })
            defer { server.terminate() }

            let temporary = TemporaryFolder(prefix: "box")
            let folder = temporary.file("data")  // made by provision, as on a fresh box
            let box = ["EDGE_DATA_DIR": folder]
            let provision = try await Self.run(
                "edge-agent", ["provision", "--hq", url, "--token", token.lastLine], environment: box)
            #expect(provision.status == 0, "\(provision.standardError)")
            #expect(provision.standardOutput.contains("Trattoria Roma"))
            let keyAttributes = try FileManager.default.attributesOfItem(atPath: folder + "/secrets/device.key")
            #expect((keyAttributes[.posixPermissions] as? Int) == 0o600)
            let again = try await Self.run(
                "edge-agent", ["provision", "--hq", url, "--token", token.lastLine], environment: box)
            #expect(again.status == 1 && again.standardError.contains("enrolled already"))

            // Something for headquarters.
            try await Self.addCall(folder: folder, sid: "CA00000000000000000000000000000001")

            let now = try await Self.run("edge-agent", ["sync", "now"], environment: box)
            #expect(now.status == 0, "\(now.standardError)")
            #expect(now.standardOutput.contains("backlog 0"))
            let status = try await Self.run("edge-agent", ["sync", "status", "--json"], environment: box)
            let json = try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
            #expect(json?["backlog"] as? Int == 0)
            #expect(json?["last_success_at"] != nil)

            let devices = try await Self.run("edge-hq", ["devices", "list"], environment: hqEnvironment)
            let deviceID = try #require(devices.standardOutput.split(separator: " ").first.map(String.init))
            #expect(devices.standardOutput.contains("Trattoria Roma") && devices.standardOutput.contains("active"))
            #expect(
                try await Self.run("edge-hq", ["devices", "revoke", deviceID], environment: hqEnvironment).status == 0)

            try await Self.addCall(folder: folder, sid: "CA00000000000000000000000000000002")
            let afterRevoke = try await Self.run("edge-agent", ["sync", "now"], environment: box)
            #expect(afterRevoke.status == 1)
            #expect(afterRevoke.standardError.contains("revoked"))
            let text = try await Self.run("edge-agent", ["sync", "status"], environment: box).standardOutput
            #expect(text.contains("backlog: 1 changes") && text.contains("revoked"))

            let badURL = try await Self.run("edge-hq", ["migrate"], environment: ["EDGE_HQ_DATABASE_URL": "mysql://x"])
            #expect(badURL.status == 2 && badURL.standardError.contains("EDGE_HQ_DATABASE_URL"))
        }
    }
}
