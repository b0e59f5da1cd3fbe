public import AsyncHTTPClient
import CallRecording
import Foundation
public import Hummingbird
public import HummingbirdWebSocket
public import LocalStore
public import Logging
public import NIOCore
public import Resilience
public import ServiceLifecycle
public import Sync
public import SyncAgent
public import UnixSignals

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

    /// Every route of the agent behind the logging and metrics middleware, the Media Stream included.
    public func makeRouter() -> Router<AgentRequestContext> {
        let router = Router(context: AgentRequestContext.self)
        router.add(middleware: RequestLoggingMiddleware())
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        HealthRoutes(
            readiness: ReadinessProbe(database: database, configuration: configuration, upstreams: configuredUpstreams),
            metrics: metrics
        )
        .register(on: router)
        let access = AdminAccess(
            tokens: AdminTokens(database: database), sessions: AdminSessions(), throttle: LoginThrottle(),
            allowed: configuration.adminAllowedNetworks, configuredToken: configuration.adminToken)
        AdminAPIRoutes(app: self, access: access).register(on: router)
        do {
            try StaffPage(app: self, access: access).register(on: router)
        } catch {
            logger.error("the staff page is off", metadata: ["error": "\(error)"])
        }
        TwilioWebhookRoutes(
            configuration: configuration, calls: CallLog(database: database), streamTokens: streamTokens,
            recordingImporter: twilioRecordingImporter,
            textReplies: textMessagesReady
                ? TextReplies(
                    queue: TextConfirmations(database: database),
                    book: ReservationBook(database: database, policies: policies), phrases: phrases,
                    restaurantName: configuration.restaurant.name) : nil
        )
        .register(on: router)
        let handler = MediaStreamHandler(
            services: makeCallServices(),
            stallTimeout: .milliseconds(Int64(configuration.mediaStreamStallSeconds * 1000)))
        let upgradeCheck = MediaStreamUpgradeCheck(configuration: configuration)
        router.ws("/twilio/media") { request, context in
            do {
                try upgradeCheck.verify(request, logger: context.logger)
            } catch let error as APIError {
                try await RefusedUpgradeStatus.answer(error.status, on: context.channel)
                throw error
            }
            context.logger.debug("Media Stream connecting")
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            await handler.run(inbound: inbound, outbound: outbound, logger: context.logger)
        }
        return router
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

    /// The primary model, and the fallback endpoint when one is configured, each behind its upstream.
    public func makeLanguageModel() -> any LanguageModel {
        let llm = configuration.llm
        let primary = OpenAIChatClient(
            http: http, baseURL: llm.baseURL, apiKey: llm.apiKey, model: llm.model, logger: logger)
        var fallback: (any LanguageModel)?
        if let url = llm.fallbackBaseURL, let model = llm.fallbackModel {
            fallback = OpenAIChatClient(http: http, baseURL: url, apiKey: llm.apiKey, model: model, logger: logger)
        }
        return FallbackLanguageModel(
            primary: primary, primaryUpstream: upstreams.llm, fallback: fallback,
            fallbackUpstream: upstreams.llmFallback, metrics: metrics, logger: logger)
    }

    /// Deepgram when it is configured, then the OpenAI-compatible transcription endpoint, each behind its
    /// upstream.
    public func makeRecognizer() -> any SpeechRecognizer {
        let speech = configuration.speechToText
        let llm = configuration.llm
        var chain: [(name: String, recognizer: any SpeechRecognizer)] = []
        if let key = speech.deepgramAPIKey {
            chain.append(
                (
                    "deepgram",
                    GuardedRecognizer(
                        DeepgramRecognizer(baseURL: speech.deepgramBaseURL, apiKey: key, logger: logger),
                        upstream: upstreams.deepgram)
                ))
        }
        chain.append(
            (
                "transcription",
                GuardedRecognizer(
                    OpenAITranscriptionClient(
                        http: http, baseURL: speech.transcriptionBaseURL ?? llm.baseURL, apiKey: llm.apiKey,
                        model: speech.transcriptionModel, logger: logger),
                    upstream: upstreams.transcription)
            ))
        return FallbackRecognizer(chain: chain, metrics: metrics, logger: logger)
    }

    /// The upstreams the configuration uses, for `/readyz`.
    public var configuredUpstreams: [Upstream] {
        var used = [upstreams.llm, upstreams.transcription]
        if configuration.llm.fallbackBaseURL != nil { used.append(upstreams.llmFallback) }
        if configuration.speechToText.deepgramAPIKey != nil { used.append(upstreams.deepgram) }
        if configuration.textToSpeech.apiKey != nil { used.append(upstreams.elevenLabs) }
        if configuration.twilio.accountSID != nil { used.append(upstreams.twilio) }
        if twilioRecordingImporter != nil { used.append(upstreams.twilioMedia) }
        if configuration.headquartersURL != nil
            || (try? HeadquartersLink.load(dataDirectory: configuration.dataDirectory)) != nil
        {
            used.append(upstreams.headquarters)
        }
        return used
    }

    /// The cloud voice (ElevenLabs) when it is configured, with the phrase cache in front of it and the
    /// local voice behind; the local voice alone otherwise.
    public func makeSpeechOutput() -> SpeechOutput {
        let tts = configuration.textToSpeech
        var voices: [String: String] = [:]
        voices["en"] = tts.voiceEnglish
        voices["es"] = tts.voiceSpanish
        var provider: SpeechOutput.Provider?
        if tts.apiKey != nil, !voices.isEmpty {
            let client = ElevenLabsClient(
                http: http, baseURL: tts.baseURL, apiKey: tts.apiKey, voices: voices, model: tts.model, logger: logger)
            provider = SpeechOutput.Provider(
                synthesizer: GuardedSynthesizer(client, upstream: upstreams.elevenLabs), voices: client.identities,
                maxCharacters: tts.maxCharacters, settings: tts.voiceSettings)
        }
        return SpeechOutput(
            provider: provider, cache: phraseCache, localVoice: LocalVoice(logger: logger), metrics: metrics,
            logger: logger, selection: voiceSelection)
    }

    /// Whether text confirmations can be sent: `sms.enabled`, Twilio's account and `sms.from`.
    public var textMessagesReady: Bool {
        configuration.textMessages.enabled && configuration.textMessages.from != nil
            && configuration.twilio.accountSID != nil && configuration.twilio.authToken != nil
    }

    /// Writes the texts, when they can be sent.
    var textConfirmationWriter: TextConfirmationWriter? {
        guard textMessagesReady else { return nil }
        return TextConfirmationWriter(
            phrases: phrases, restaurantName: configuration.restaurant.name,
            lookupConfigured: configuration.textMessages.lookup)
    }

    /// Sends the queued texts through Twilio, when they can be sent.
    public func makeTextConfirmationSender(idle: Duration = .seconds(30)) -> TextConfirmationSender? {
        guard textMessagesReady, let sid = configuration.twilio.accountSID, let token = configuration.twilio.authToken,
            let from = configuration.textMessages.from
        else { return nil }
        let client = TwilioRESTClient(
            http: http, baseURL: configuration.twilio.apiBaseURL, accountSID: sid, authToken: token, logger: logger)
        return TextConfirmationSender(
            queue: TextConfirmations(database: database),
            transport: TwilioTextTransport(client: client, lookupBaseURL: configuration.twilio.lookupBaseURL),
            from: from, lookup: configuration.textMessages.lookup, wake: textSignal.wakes, idle: idle, logger: logger)
    }

    /// Switches voices when staff choose another: one per app, made when first asked for.
    public var voices: VoiceSwitcher {
        voiceSelection.switcher.withLock { slot in
            if let slot { return slot }
            let switcher = makeVoiceSwitcher()
            slot = switcher
            return switcher
        }
    }

    private func makeVoiceSwitcher() -> VoiceSwitcher {
        let tts = configuration.textToSpeech
        var configured: [String: String] = [:]
        configured["en"] = tts.voiceEnglish
        configured["es"] = tts.voiceSpanish
        let app = self
        return VoiceSwitcher(
            selection: voiceSelection, store: VoiceChoiceStore(database: database), configured: configured,
            choices: ["en": tts.choices(for: "en"), "es": tts.choices(for: "es")],
            warmer: { language in
                let warmer = app.makePhraseWarmer()
                return PhraseWarmer(
                    speech: warmer.speech, cache: warmer.cache, texts: warmer.texts.filter { $0.language == language },
                    concurrency: warmer.concurrency, logger: warmer.logger)
            }, logger: logger)
    }

    /// A warmer for every phrase of the catalog in the configured voices.
    public func makePhraseWarmer(concurrency: Int? = nil) -> PhraseWarmer {
        PhraseWarmer(
            speech: makeSpeechOutput(), cache: phraseCache,
            texts: PhraseWarmer.catalogTexts(
                catalogs: catalogs, policy: policies.current, phraseBook: phrases,
                restaurantName: configuration.restaurant.name),
            concurrency: concurrency ?? configuration.phraseCache.warmConcurrency, logger: logger)
    }

    /// The HTTP server on the configured host and port.
    public func makeApplication(
        router: Router<AgentRequestContext>,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(
                address: .hostname(configuration.http.host, port: configuration.http.port), serverName: "edge-agent"),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// The services in start order; graceful stop runs in reverse, so the server drains first, the span
    /// exporter then sends what the last calls traced, and the database closes last.
    public func makeServiceGroup(
        server: some Service, notifier: SystemdNotifier, gracefulShutdownSignals: [UnixSignal]
    ) -> ServiceGroup {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: DatabaseService(database: database, logger: logger))
        ]
        if let exporter = tracing.service {
            // A collector that fails never stops the phone from being answered.
            services.append(
                .init(service: exporter, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        var group = ServiceGroupConfiguration(
            services: services + [
                .init(service: HTTPClientService(http: http, logger: logger)),
                .init(service: notifier),
                .init(
                    service: PhraseWarmingService(warmer: makePhraseWarmer(), cache: phraseCache, logger: logger),
                    successTerminationBehavior: .ignore),
                .init(
                    service: TwilioRecordingImportService(importer: twilioRecordingImporter, logger: logger),
                    successTerminationBehavior: .ignore),
                .init(
                    service: RecordingRetentionService(
                        recordings: recordings, retentionDays: configuration.recording.retentionDays, logger: logger),
                    successTerminationBehavior: .ignore),
                .init(
                    service: SyncService(worker: makeSyncWorker(), logger: logger), successTerminationBehavior: .ignore),
            ] + (makeTextConfirmationSender().map { [.init(service: $0, successTerminationBehavior: .ignore)] } ?? [])
                + [

                    .init(service: server)
                ],
            gracefulShutdownSignals: gracefulShutdownSignals,
            cancellationSignals: [],
            logger: logger)
        group.maximumGracefulShutdownDuration = .milliseconds(Int64(configuration.shutdownGraceSeconds * 1000))
        group.maximumCancellationDuration = .seconds(5)
        return ServiceGroup(configuration: group)
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully. Translates a failure to listen into a
    /// ``StartupError`` naming the address.
    public func run(environment: [String: String]) async throws {
        let database = self.database
        // Bookings need the database's writer: the watchdog is pinged only while it answers.
        let notifier = SystemdNotifier(
            environment: environment,
            health: { (try? await database.write { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1 },
            metrics: metrics, logger: logger)
        let address = "\(configuration.http.host):\(configuration.http.port)"
        let server = makeApplication(router: makeRouter()) { [logger] channel in
            logger.info(
                "listening", metadata: ["http.address": .string("\(channel.localAddress.map { "\($0)" } ?? address)")])
            notifier.ready()
        }
        // A voice staff chose before a restart is warmed again (cache hits) and used once it is.
        await voices.resume()
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
