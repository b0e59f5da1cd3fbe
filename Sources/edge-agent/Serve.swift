import ArgumentParser
import EdgeAgent
import Foundation
import LocalStore

/// `edge-agent serve`: run the appliance until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the appliance: HTTP and WebSocket server, and its background services.",
        discussion: """
            Configuration comes from embedded defaults, then the file (--config, or \
            /etc/edge-agent/config.yaml when it exists), then environment variables, which win. \
            Exit codes: 0 after a graceful stop, 2 for a configuration error, 1 for any other start-up failure.
            """
    )

    @Option(name: .long, help: "The YAML (or JSON) configuration file.")
    var config: String?

    @Flag(name: .long, help: "Print the effective configuration, secrets masked, and exit.")
    var checkConfig = false

    func run() async throws {
        let loaded = try loadConfiguration(config)
        if checkConfig {
            print(loaded.effectiveDescription)
            return
        }
        // One agent per data folder; `restore` waits for it to stop. Held until the process ends.
        let lock: DataFolderLock
        do {
            lock = try DataFolderLock(dataDirectory: loaded.configuration.dataDirectory)
        } catch {
            throw fail("\(error)", code: 1)
        }
        defer { withExtendedLifetime(lock) {} }
        let logger = AgentLogging.bootstrap(loaded.configuration.logging)
        let http = UpstreamHTTP.makeClient()
        do {
            let tracing = try TracingBackend.make(settings: loaded.configuration.tracing, logger: logger)
            let app = try await EdgeAgentApp.prepare(
                configuration: loaded.configuration, logger: logger, http: http, tracing: tracing)
            try await AgentServer(app: app).run(environment: ProcessInfo.processInfo.environment)
        } catch {
            try? await http.shutdown()
            throw fail("\(error)", code: 1)
        }
    }
}
