import ArgumentParser
import EdgeAgent
import Foundation

/// `edge-agent`: the restaurant phone agent. Each subcommand is argument parsing and wiring only;
/// the behaviour lives in the EdgeAgent library.
@main
struct EdgeAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-agent",
        abstract: "The on-site AI phone agent for restaurants.",
        subcommands: [
            Serve.self, Demo.self, Simulate.self, Cache.self, Keys.self, Recordings.self, Customers.self,
            SyncCommand.self, Provision.self, Backup.self, Restore.self, DoctorCommand.self, Tokens.self, Audio.self,
            Talk.self,
        ]
    )
}

/// Prints `edge-agent: <message>` on one line to standard error and exits with `code`.
func fail(_ message: String, code: Int32) -> ExitCode {
    let line = "edge-agent: " + message.replacingOccurrences(of: "\n", with: " ") + "\n"
    FileHandle.standardError.write(Data(line.utf8))
    return ExitCode(code)
}

/// The configuration from the embedded defaults, `path` (or the standard file) and the environment;
/// an invalid one is one line on standard error and exit 2.
func loadConfiguration(_ path: String?) throws -> ConfigurationLoader.Loaded {
    do {
        return try ConfigurationLoader().load(filePath: path, environment: ProcessInfo.processInfo.environment)
    } catch {
        throw fail(error.description, code: 2)
    }
}
