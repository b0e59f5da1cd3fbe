public import AsyncHTTPClient
import CallRecording
import Foundation
import Hummingbird
import HummingbirdWebSocket
public import LocalStore
public import Logging
import NIOCore
import Resilience
import ServiceLifecycle
public import Sync
public import SyncAgent
import UnixSignals

/// The agent, wired: configuration, database, metrics and routes, and the service group that runs
/// them. `edge-agent serve` calls ``run(environment:)``; tests use the parts.
public struct EdgeAgentApp: Sendable {
    public let configuration: AgentConfiguration
    public let database: EdgeDatabase
    public let metrics: AgentMetrics
    public let logger: Logger
    /// The one client for every upstream; shut down by ``shutdown()`` or the service group unless it is
    /// the process-wide shared client.
    public let http: HTTPClient
    public let phrases: PhraseBook
    /// The phrase catalog per language.
    public let catalogs: [String: PhraseCatalog]
    /// Spoken phrases on disk and in memory.
    public let phraseCache: PhraseCache
    /// Each cloud provider's circuit, limits and retries.
    public let upstreams: Upstreams
    let clock: any WallClock
    let streamTokens: StreamTokens
    /// What happens to calls, as sessions report it.
    public let callEvents: AsyncStream<CallEvent>
    let callEventSink: AsyncStream<CallEvent>.Continuation
    /// Imports Twilio's own recordings, when `recording.twilio` is on with Twilio's credentials and the
    /// owner's key configured.
    public let twilioRecordingImporter: TwilioRecordingImporter?
    /// The booking rules in force: the configuration, overlaid with the settings headquarters sent.
    public let policies: ReservationPolicySource
    /// Where the calls' spans go, and the exporter's service when they are exported.
    public let tracing: TracingBackend
    /// The cloud voice staff chose per language, shared by every speech output.
    public let voiceSelection = VoiceSelection()
    /// Wakes the text sender when a confirmation was queued or consented to.
    public let textSignal = TextQueueSignal()

    /// Opens (or creates and migrates) the database, loads the seed menu on first start, and loads the
    /// stream-token key. Fails with a ``StoreError`` or ``StartupError`` naming the problem.
    ///
    /// - Parameter http: the upstream client; `serve` passes one made by ``UpstreamHTTP/makeClient(connectTimeout:readTimeout:connectionsPerHost:)``,
    ///   tests leave the shared one.
    /// - Parameter tracing: where the calls' spans go; `serve` passes ``TracingBackend/make(settings:logger:)``'s,
    ///   tests an in-memory tracer or nothing.
    ///
    /// `maintenance` closes recordings a crash left open and applies retention: right before the
    /// agent serves, never from a command that runs beside a serving agent (its calls' recordings
    /// are open then).
    public static func prepare(
        configuration: AgentConfiguration, logger: Logger, clock: any WallClock = SystemWallClock(),
        http: HTTPClient = .shared, maintenance: Bool = true, tracing: TracingBackend = .disabled
    ) async throws -> EdgeAgentApp {
        let database = try EdgeDatabase(path: configuration.databasePath, clock: clock, logger: logger)
        do {
            let seed = try loadSeedMenu(configuration)
            if try await MenuCatalog(database: database).seedIfEmpty(seed) {
                logger.info("seed menu loaded", metadata: ["menu.items": .stringConvertible(seed.items.count)])
            }
            let tokens = try StreamTokens.load(dataDirectory: configuration.dataDirectory)
            let phrases = try PhraseBook.shipped()
            let catalogs = try PhraseCatalog.load(folder: configuration.phraseCache.catalogFolder)
            let metrics = AgentMetrics()
            metrics.ttsPricePerThousandCharacters.record(configuration.textToSpeech.pricePerThousandCharacters)
            let cache = PhraseCache(
                dataDirectory: configuration.dataDirectory, database: database,
                limits: PhraseCache.Limits(
                    diskBytes: Int64(configuration.phraseCache.diskMegabytes) * 1024 * 1024,
                    memoryBytes: configuration.phraseCache.memoryMegabytes * 1024 * 1024),
                metrics: metrics, logger: logger)
            let (events, sink) = AsyncStream.makeStream(of: CallEvent.self, bufferingPolicy: .bufferingNewest(1000))
            let upstreams = Upstreams(configuration: configuration.resilience, metrics: metrics, logger: logger)
            let importer = makeTwilioRecordingImporter(
                configuration: configuration, database: database, http: http, upstreams: upstreams, metrics: metrics,
                clock: clock, logger: logger)
            let policies = ReservationPolicySource(configured: configuration.reservations)
            let app = EdgeAgentApp(
                configuration: configuration, database: database, metrics: metrics, logger: logger,
                http: http, phrases: phrases, catalogs: catalogs, phraseCache: cache, upstreams: upstreams,
                clock: clock, streamTokens: tokens, callEvents: events, callEventSink: sink,
                twilioRecordingImporter: importer, policies: policies, tracing: tracing)
            // The settings headquarters sent last time hold until it sends others.
            if let settings = try await SiteSettingsStore(database: database).current() {
                app.applySettings(settings)
            }
            // Recordings a crash left open are closed as partial before any call starts.
            if maintenance {
                await app.recordings?.maintain(retentionDays: configuration.recording.retentionDays, logger: logger)
            }
            return app
        } catch {
            try? database.close()
            throw error
        }
    }

    /// The configured seed file, or the one shipped with the agent.
    static func loadSeedMenu(_ configuration: AgentConfiguration) throws -> MenuSeed {
        if let path = configuration.menuSeedFile {
            return try MenuSeed.load(from: URL(fileURLWithPath: path))
        }
        guard let url = Bundle.module.url(forResource: "seed-menu", withExtension: "json") else {
            throw StartupError("the embedded seed menu is missing from the installation; set menu.seed_file")
        }
        return try MenuSeed.load(from: url)
    }

    /// Closes the database and the upstream client (tests; `serve` stops through its service group).
    public func shutdown() async {
        await phraseCache.flush()
        try? database.close()
        if http !== HTTPClient.shared { try? await http.shutdown() }
    }

    /// The providers, tools and store every call shares, from the configuration.
    public func makeCallServices() -> CallServices {
        let calls = CallLog(database: database)
        let book = ReservationBook(database: database, policies: policies)
        let twilio = configuration.twilio
        let control: (any CallControl)? = {
            guard let sid = twilio.accountSID, let token = twilio.authToken else { return nil }
            return TwilioRESTClient(
                http: http, baseURL: twilio.apiBaseURL, accountSID: sid, authToken: token, logger: logger,
                upstream: upstreams.twilio)
        }()
        let texts = textConfirmationWriter
        let tools = ToolRunner(
            tools: [
                CheckAvailabilityTool(book: book), CreateReservationTool(book: book, texts: texts),
                UpdateReservationTool(book: book, texts: texts), CancelReservationTool(book: book, texts: texts),
                GetMenuTool(catalog: MenuCatalog(database: database)),
                GetOpeningHoursTool(policies: policies, clock: clock),
                TakeMessageTool(board: StaffMessageBoard(database: database)),
                TransferToStaffTool(control: control, staffPhone: configuration.restaurant.staffPhone),
            ], calls: calls, logger: logger)
        let model = makeLanguageModel()
        let recognizer = makeRecognizer()
        let speechOutput = makeSpeechOutput()
        return CallServices(
            calls: calls, customers: CustomerDirectory(database: database),
            engine: ConversationEngine(model: model, tools: tools, phrases: phrases, logger: logger),
            recognizer: recognizer, speech: speechOutput, phrases: phrases, catalogs: catalogs,
            book: book, upstreams: upstreams,
            silenceBudget: .milliseconds(Int64(configuration.resilience.silenceBudgetSeconds * 1000)),
            keypadRetryAfter: .milliseconds(Int64(configuration.resilience.keypadRetrySeconds * 1000)),
            recordings: recordings,
            restaurantName: configuration.restaurant.name, streamTokens: streamTokens, metrics: metrics,
            logger: logger, events: callEventSink, tracer: tracing.tracer,
            listening: configuration.listening.listenerSettings,
            canTransfer: control != nil && configuration.restaurant.staffPhone != nil,
            texts: texts.map { ($0, TextConfirmations(database: database), textSignal) })
    }

    /// Call recording, when the owner's public key is configured and recording is on.
    public var recordings: CallRecordings? {
        Self.makeRecordings(configuration: configuration, database: database, metrics: metrics, clock: clock)
    }

    static func makeRecordings(
        configuration: AgentConfiguration, database: EdgeDatabase, metrics: AgentMetrics, clock: any WallClock
    ) -> CallRecordings? {
        guard configuration.recording.enabled, let key = configuration.recordingPublicKey,
            let publicKey = try? RecordingIdentity.publicKey(base64: key)
        else { return nil }
        return CallRecordings(
            ownerPublicKey: publicKey,
            folder: configuration.recordingsFolder,
            vault: RecordingVault(database: database), noticeRequired: configuration.recording.noticeRequired,
            metrics: metrics, clock: clock)
    }

    static func makeTwilioRecordingImporter(
        configuration: AgentConfiguration, database: EdgeDatabase, http: HTTPClient, upstreams: Upstreams,
        metrics: AgentMetrics, clock: any WallClock, logger: Logger
    ) -> TwilioRecordingImporter? {
        let twilio = configuration.twilio
        guard configuration.recording.twilio, let sid = twilio.accountSID, let token = twilio.authToken,
            let recordings = makeRecordings(
                configuration: configuration, database: database, metrics: metrics, clock: clock)
        else { return nil }
        return TwilioRecordingImporter(
            imports: TwilioRecordingImports(database: database),
            twilio: TwilioRESTClient(
                http: http, baseURL: twilio.apiBaseURL, accountSID: sid, authToken: token, logger: logger),
            recordings: recordings, calls: CallLog(database: database), upstream: upstreams.twilioMedia,
            deleteAtTwilio: configuration.recording.deleteAtTwilio, logger: logger)
    }

    /// The sync with headquarters, when the box is enrolled or `EDGE_HQ_URL` is set; nil otherwise.
    public func makeSyncWorker() -> SyncWorker? {
        let enrolled = (try? HeadquartersLink.load(dataDirectory: configuration.dataDirectory)) != nil
        guard enrolled || configuration.headquartersURL != nil else { return nil }
        return SyncWorker(
            database: database, dataDirectory: configuration.dataDirectory,
            urlOverride: configuration.headquartersURL?.absoluteString, upstream: upstreams.headquarters,
            metricsFactory: metrics.factory, interval: .seconds(configuration.sync.intervalSeconds),
            maximumRows: configuration.sync.batchRows, maximumBytes: configuration.sync.batchKilobytes * 1024,
            recordings: RecordingUploadSettings(
                folder: configuration.recordingsFolder, deleteAfterUpload: configuration.recording.deleteAfterUpload),
            logger: logger, onMenuChange: { [self] items in await warmMenuWords(items) },
            onSettingsChange: { [self] settings in
                applySettings(settings)
                // Fewer seats or other hours may leave bookings already taken without room.
                let today = LocalDate(clock.now(), in: policies.current.timeZone)
                await checkOverbooking(dates: Set((0...60).map { today.adding(days: $0) }))
            },
            onReservationsChange: { [self] starts in
                let zone = policies.current.timeZone
                await checkOverbooking(dates: Set(starts.map { LocalDate(Date(unixMilliseconds: $0), in: zone) }))
            })
    }

    /// Looks for moments with more guests than seats on `dates`; each new one is a staff message, a
    /// warning in the log and `edge_overbooked_slots`.
    public func checkOverbooking(dates: Set<LocalDate>) async {
        let monitor = OverbookingMonitor(database: database)
        do {
            for slot in try await monitor.check(dates: dates, policy: policies.current) {
                logger.warning(
                    "overbooked after a merge with headquarters; the staff have a message",
                    metadata: [
                        "reservation.moment": .stringConvertible(slot.moment),
                        "reservation.seats_held": .stringConvertible(slot.seatsHeld),
                        "reservation.seats": .stringConvertible(slot.seats),
                    ])
            }
            metrics.overbookedSlots.record(try await monitor.open().count)
        } catch {
            logger.error("cannot check for overbooking", metadata: ["error": "\(error)"])
        }
    }

    /// Headquarters' booking settings, over the configuration, from the next question a caller
    /// asks. Settings that cannot be used are logged and change nothing.
    public func applySettings(_ settings: SiteSettings) {
        do {
            try policies.apply(settings)
            logger.info(
                "booking settings from headquarters in force", metadata: ["settings.version": "\(settings.version)"])
        } catch {
            logger.error(
                "headquarters sent booking settings that cannot be used; the previous ones stay in force",
                metadata: ["error": "\(error)"])
        }
    }

    /// The menu changed at headquarters: the changed items' names, in both languages, are fetched into
    /// the phrase cache, so the agent can still say them when the cloud voice is away.
    public func warmMenuWords(_ itemIDs: Set<String>) async {
        let speech = makeSpeechOutput()
        guard speech.provider != nil else { return }
        var texts: [(text: String, language: String)] = []
        for language in ["en", "es"] {
            let items = (try? await MenuCatalog(database: database).items(language: language)) ?? []
            texts += items.filter { itemIDs.contains($0.item.id) }.map { ($0.name, language) }
        }
        guard !texts.isEmpty else { return }
        let warmer = PhraseWarmer(
            speech: speech, cache: phraseCache, texts: texts, concurrency: configuration.phraseCache.warmConcurrency,
            logger: logger)
        let report = try? await warmer.warm()
        logger.info(
            "menu changed at headquarters; its new words are in the phrase cache",
            metadata: [
                "menu.items": .stringConvertible(itemIDs.count),
                "cache.fetched": .stringConvertible(report?.fetched ?? 0),
            ])
    }

    /// Erases everything held about the caller at `phone` (see ``PrivacyRequests``), destroying the
    /// files of their recordings first, whether or not recording is still configured.
    public func eraseCustomer(phone: String, actor: String) async throws -> ErasureReport {
        let folder = configuration.recordingsFolder
        return try await PrivacyRequests(database: database).erase(phone: phone, actor: actor) { recordings in
            for recording in recordings {
                try SealedFileShredder.destroy(path: (folder as NSString).appendingPathComponent(recording.fileName))
            }
        }
    }

}
