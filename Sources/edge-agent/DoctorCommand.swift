import ArgumentParser
import EdgeAgent
import Foundation

/// `edge-agent doctor`: what a technician checks on site, one line each.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract:
            "Check the box: configuration, database, disk, clock, last backup, recording key, phrase cache, each cloud key, headquarters and the Twilio number.",
        discussion: """
            One line per check: PASS, WARN or FAIL, and for anything short of a pass the one thing to do. \
            Exit codes: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 when the \
            configuration does not load.
            """)

    @OptionGroup var options: Cache.Options

    @Flag(name: .long, help: "Print the checks as a JSON array, for scripts.")
    var json = false

    func run() async throws {
        // Beside a serving agent: its open recordings are left alone.
        let checks = try await options.withApp(maintenance: false) { app in await Doctor(app: app).run() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(checks) + Data("\n".utf8))
        } else {
            let width = checks.map(\.name.count).max() ?? 0
            for check in checks {
                let name = check.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print(
                    "\(check.status.rawValue.uppercased())  \(name)  \(check.detail)"
                        + (check.fix.map { "; fix: \($0)" } ?? ""))
            }
        }
        if checks.contains(where: { $0.status == .fail }) { throw ExitCode(1) }
    }
}
