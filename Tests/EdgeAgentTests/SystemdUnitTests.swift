import Foundation
import TestSupport
import Testing

/// The shipped systemd units, checked by systemd's own tools: `systemd-analyze security` rates every
/// service 1.5 or lower (the OK band), and `systemd-analyze verify` accepts every unit.
@Suite("systemd units")
struct SystemdUnitTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("systemd")

    static var units: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".service") || $0.hasSuffix(".timer") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }

    /// `systemd-analyze`, or nil (with the reason recorded under CI, where it must be present).
    static func analyzer() -> URL? {
        for path in ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        let message = "systemd-analyze is missing (Debian package systemd): the units were not checked"
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record(Comment(rawValue: message))
        } else {
            print(message)
        }
        return nil
    }

    /// Runs `tool` off the cooperative pool; its output is standard output and error together.
    static func run(_ tool: URL, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let outcome = try await ChildProcess.run(tool, arguments, environment: nil)
        return (outcome.status, outcome.standardOutput + outcome.standardError)
    }

    @Test("every service is rated 1.5 or lower by systemd-analyze security")
    func exposure() async throws {
        guard let analyzer = Self.analyzer() else { return }
        let services = Self.units.filter { $0.pathExtension == "service" }
        #expect(services.map(\.lastPathComponent) == ["edge-agent-backup.service", "edge-agent.service"])
        for service in services {
            let result = try await Self.run(analyzer, ["security", "--offline=true", "--no-pager", service.path])
            let line = try #require(
                result.output.split(separator: "\n").first { $0.contains("Overall exposure level") },
                "\(result.output)")
            let score = try #require(
                line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
            #expect(score <= 1.5, "\(service.lastPathComponent): \(line)")
            // Every setting was understood (a misplaced key is ignored with a warning, and its protection lost).
            #expect(!result.output.contains("Unknown key"), "\(result.output)")
        }
    }

    @Test("systemd-analyze verify accepts every unit, with the program where the unit says")
    func verify() async throws {
        guard let analyzer = Self.analyzer() else { return }
        let folder = TemporaryFolder()
        let binary = CommandLineTests.binary.path
        for unit in Self.units {
            let text = try String(contentsOf: unit, encoding: .utf8)
            #expect(text.contains("/opt/edge-agent/bin/edge-agent") || unit.pathExtension == "timer")
            // The installed path does not exist here: the built program stands in for it.
            try text.replacingOccurrences(of: "/opt/edge-agent/bin/edge-agent", with: binary)
                .write(toFile: folder.file(unit.lastPathComponent), atomically: true, encoding: .utf8)
        }
        let result = try await Self.run(analyzer, ["verify"] + Self.units.map { folder.file($0.lastPathComponent) })
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "\(result.output)")
    }
}
