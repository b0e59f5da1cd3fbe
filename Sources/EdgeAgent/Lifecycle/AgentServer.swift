import Foundation
import Hummingbird
public import ServiceLifecycle
public import UnixSignals

/// The agent as `edge-agent serve` runs it: the long-running services of a wired ``EdgeAgentApp`` in
/// one `ServiceGroup`, started in order and stopped in reverse on SIGTERM or SIGINT. What each service
/// is made of is the app's wiring; this type only decides what runs, in which order, and how it stops.
public struct AgentServer: Sendable {
    public let app: EdgeAgentApp

    public init(app: EdgeAgentApp) {
        self.app = app
    }

    /// The services in start order; graceful stop runs in reverse, so the server drains first, the span
    /// exporter then sends what the last calls traced, and the database closes last.
    public func makeServiceGroup(
        server: some Service, notifier: SystemdNotifier, gracefulShutdownSignals: [UnixSignal]
    ) -> ServiceGroup {
        let logger = app.logger
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: DatabaseService(database: app.database, logger: logger))
        ]
        if let exporter = app.tracing.service {
            // A collector that fails never stops the phone from being answered.
            services.append(
                .init(service: exporter, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        services += [
            .init(service: HTTPClientService(http: app.http, logger: logger)),
            .init(service: notifier),
            .init(
                service: PhraseWarmingService(warmer: app.makePhraseWarmer(), cache: app.phraseCache, logger: logger),
                successTerminationBehavior: .ignore),
            .init(
                service: TwilioRecordingImportService(importer: app.twilioRecordingImporter, logger: logger),
                successTerminationBehavior: .ignore),
            .init(
                service: RecordingRetentionService(
                    recordings: app.recordings, retentionDays: app.configuration.recording.retentionDays,
                    logger: logger),
                successTerminationBehavior: .ignore),
            .init(
                service: SyncService(worker: app.makeSyncWorker(), logger: logger), successTerminationBehavior: .ignore),
        ]
        if let sender = app.makeTextConfirmationSender() {
            services.append(.init(service: sender, successTerminationBehavior: .ignore))
        }
        services.append(.init(service: server))
        var group = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: gracefulShutdownSignals, cancellationSignals: [],
            logger: logger)
        group.maximumGracefulShutdownDuration = .milliseconds(Int64(app.configuration.shutdownGraceSeconds * 1000))
        group.maximumCancellationDuration = .seconds(5)
        return ServiceGroup(configuration: group)
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully. Translates a failure to listen into a
    /// ``StartupError`` naming the address.
    public func run(environment: [String: String]) async throws {
        let app = self.app
        let database = app.database
        let logger = app.logger
        // Bookings need the database's writer: the watchdog is pinged only while it answers.
        let notifier = SystemdNotifier(
            environment: environment,
            health: { (try? await database.write { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1 },
            metrics: app.metrics, logger: logger)
        let address = "\(app.configuration.http.host):\(app.configuration.http.port)"
        let server = app.makeApplication(router: app.makeRouter()) { channel in
            logger.info(
                "listening", metadata: ["http.address": .string("\(channel.localAddress.map { "\($0)" } ?? address)")])
            notifier.ready()
        }
        // A voice staff chose before a restart is warmed again (cache hits) and used once it is.
        await app.voices.resume()
        do {
            try await makeServiceGroup(
                server: server, notifier: notifier, gracefulShutdownSignals: [.sigterm, .sigint]
            )
            .run()
        } catch {
            throw Self.describeServerError(error, address: address)
        }
    }

    /// Turns NIO's bind errors into a line a technician can act on.
    static func describeServerError(_ error: any Error, address: String) -> any Error {
        let text = String(describing: error)
        if text.contains("Address already in use") || text.contains("EADDRINUSE") {
            return StartupError(
                "cannot listen on \(address): the port is already in use; stop the other process or set EDGE_HTTP_PORT")
        }
        if text.contains("Permission denied") || text.contains("EACCES") {
            return StartupError(
                "cannot listen on \(address): permission denied; use a port above 1024 or EDGE_HTTP_PORT")
        }
        if text.contains("Cannot assign requested address") || text.contains("EADDRNOTAVAIL") {
            return StartupError("cannot listen on \(address): no such address on this machine; check EDGE_HTTP_HOST")
        }
        return error
    }
}
