import AsyncHTTPClient
public import Foundation
import HTTPErrors
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
public import NIOCore
import NIOSSL
import ServiceLifecycle

/// Headquarters, wired: configuration, the PostgreSQL pool, the directory of sites and devices, the
/// sync routes and health. Stateless apart from PostgreSQL, so several can run behind a load
/// balancer. `edge-hq serve` runs ``serve(onRunning:)``; tests use the parts.
public struct HQApp: Sendable {
    public let configuration: HQConfiguration
    public let database: HQDatabase
    public let directory: SiteDirectory
    public let metrics: HQMetrics
    /// Recording files from boxes, staged and then kept in the configured store.
    public let recordings: RecordingUploads
    /// Each site's Twilio account, registered by its box for the fallback URL.
    public let twilioAccounts: SiteTwilioAccounts
    /// Calls Twilio sent to headquarters while a box could not answer.
    public let fallbackCalls: FallbackCalls
    /// Brings those calls' voicemails in from Twilio.
    public let voicemails: VoicemailImporter
    /// Retention of headquarters' own tables and recordings, every minute.
    public let housekeeping: HQHousekeeping
    /// Request handlers running now; see ``DeadlineResponder``.
    public let requestsInFlight: RequestsInFlight
    public let logger: Logger
    let now: @Sendable () -> Int64

    public init(
        configuration: HQConfiguration, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.now = now
        database = HQDatabase(
            location: configuration.database, maximumConnections: configuration.maximumConnections, logger: logger)
        directory = SiteDirectory(database: database, logger: logger)
        metrics = HQMetrics()
        let store = Self.makeStore(configuration.recordingStorage)
        recordings = RecordingUploads(database: database, store: store, logger: logger)
        twilioAccounts = SiteTwilioAccounts(database: database, secretsKey: configuration.secretsKey, logger: logger)
        fallbackCalls = FallbackCalls(database: database, logger: logger)
        voicemails = VoicemailImporter(
            database: database, accounts: twilioAccounts, calls: fallbackCalls, store: store, http: HTTPClient.shared,
            logger: logger, now: now)
        var retention = HQHousekeeping.Settings()
        retention.recordingRetentionDays = configuration.recordingRetentionDays
        housekeeping = HQHousekeeping(database: database, settings: retention, now: now, logger: logger)
        let gauge = metrics.requestsInFlight
        requestsInFlight = RequestsInFlight(gauge: { gauge.record($0) })
    }

    static func makeStore(_ storage: HQConfiguration.RecordingStorage) -> any RecordingStore {
        switch storage {
        case .folder(let path):
            return FolderRecordingStore(root: path)
        case .s3(let location):
            return S3RecordingStore(
                endpoint: location.endpoint, bucket: location.bucket,
                signer: S3Signer(
                    accessKeyID: location.accessKeyID, secretAccessKey: location.secretAccessKey,
                    region: location.region),
                http: HTTPClient.shared)
        }
    }

    /// Every route behind request logging.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: ServerTimeMiddleware(now: now))
        HealthRoutes.headquarters(database: database, metrics: metrics).register(on: router)
        let authenticator = RequestAuthenticator(directory: directory, database: database, logger: logger, now: now)
        RecordingRoutes(authenticator: authenticator, uploads: recordings, metrics: metrics).register(on: router)
        var sync = SyncRoutes(
            directory: directory,
            authenticator: authenticator,
            ingest: BatchIngest(
                database: database, logger: logger, maximumRows: configuration.maximumBatchRows, now: now),
            feed: ChangeFeed(database: database, logger: logger), metrics: metrics,
            maximumBodyBytes: configuration.maximumBodyBytes,
            maximumDecompressedBytes: configuration.maximumDecompressedBytes)
        sync.recordings = recordings
        sync.register(on: router)
        TwilioFallbackRoutes(
            authenticator: authenticator, accounts: twilioAccounts, calls: fallbackCalls, importer: voicemails,
            metrics: metrics, publicURL: configuration.publicURL, servesTLS: configuration.tlsCertificatePath != nil,
            now: now
        ).register(on: router)
        return router
    }

    /// Every route, each request answered within ``HQConfiguration/requestTimeout``.
    public func makeResponder() -> some HTTPResponder<BasicRequestContext> {
        DeadlineResponder(
            base: makeRouter().buildResponder(), limit: configuration.requestTimeout, inFlight: requestsInFlight)
    }

    /// The server: HTTPS with the configured certificate, or plain HTTP only when allowed.
    public func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let server: HTTPServerBuilder
        if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            let chain: [NIOSSLCertificate]
            let privateKey: NIOSSLPrivateKey
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificate)
                privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            } catch {
                throw HQConfigurationError(
                    "cannot read EDGE_HQ_TLS_CERT / EDGE_HQ_TLS_KEY (\(certificate), \(key)): \(error)")
            }
            server = try .tls(
                .http1(),
                tlsConfiguration: .makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey)))
        } else if configuration.allowHTTP {
            server = .http1()
        } else {
            throw HQConfigurationError(
                "set EDGE_HQ_TLS_CERT and EDGE_HQ_TLS_KEY (PEM), or EDGE_HQ_ALLOW_HTTP=1 for plain HTTP in tests")
        }
        return Application(
            responder: makeResponder(), server: server,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "edge-hq"),
            onServerRunning: onServerRunning, logger: logger)
    }

    /// Applies pending migrations, then serves until SIGTERM or SIGINT.
    public func serve(onRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        let application = try makeApplication(onServerRunning: onRunning)
        try await database.whileRunning {
            try await HQMigrations.apply(database, logger: logger)
            var group = ServiceGroupConfiguration(
                services: [.init(service: NoncePurgeService(app: self)), .init(service: application)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // Requests in flight get 30 s to finish; one that never does (seen after PostgreSQL killed
            // its connection mid-transaction) is cancelled rather than holding the stop forever.
            group.maximumGracefulShutdownDuration = .seconds(30)
            group.maximumCancellationDuration = .seconds(5)
            try await ServiceGroup(configuration: group).run()
        }
    }
}

/// Every minute: headquarters' housekeeping (``HQHousekeeping``: old nonces, batch answers and
/// abandoned uploads, recordings past their retention; one replica at a time), deletes the stored
/// files of recordings erased or expired since (those the store did not take at the time), and
/// imports the voicemails Twilio did not give at the first try.
struct NoncePurgeService: Service {
    let app: HQApp

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await app.housekeeping.run()
                } catch {
                    app.logger.warning("housekeeping did not finish", metadata: ["error": "\(error)"])
                }
                do {
                    try await app.recordings.deleteErased()
                } catch {
                    app.logger.warning("cannot delete erased recordings' files", metadata: ["error": "\(error)"])
                }
                await app.voicemails.importPending()
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }
}
