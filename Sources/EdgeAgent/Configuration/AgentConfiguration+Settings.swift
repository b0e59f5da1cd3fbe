import Foundation
import LocalStore

extension AgentConfiguration {
    /// Every setting the agent reads, in the order `--check-config` prints them. Keys are the file's
    /// dotted paths; environment names follow the interface spec.
    static let settings: [Setting] =
        [
            .string("data_dir", "EDGE_DATA_DIR", \.dataDirectory),
            .string("http.host", "EDGE_HTTP_HOST", \.http.host),
            .integer("http.port", "EDGE_HTTP_PORT", \.http.port, in: 0...65535),
            .url("public_url", "EDGE_PUBLIC_URL", \.publicURL, schemes: ["http", "https"]),
            Setting(
                key: "twilio.account_sid", environment: "TWILIO_ACCOUNT_SID", isSecret: false,
                apply: { configuration, raw throws(Setting.SettingError) in
                    guard raw.isEmpty || (raw.hasPrefix("AC") && raw.count == 34) else {
                        throw Setting.SettingError(reason: "a Twilio account SID is AC followed by 32 characters")
                    }
                    configuration.twilio.accountSID = raw.isEmpty ? nil : raw
                }, render: { $0.twilio.accountSID }),
            .secret("twilio.auth_token", "TWILIO_AUTH_TOKEN", \.twilio.authToken),
            .url("twilio.api_base_url", "TWILIO_API_BASE_URL", \.twilio.apiBaseURL, schemes: ["http", "https"]),
            .url(
                "twilio.lookup_base_url", "TWILIO_LOOKUP_BASE_URL", \.twilio.lookupBaseURL, schemes: ["http", "https"]),
            .flag("sms.enabled", "EDGE_SMS_ENABLED", \.textMessages.enabled),
            .optionalPhone("sms.from", "EDGE_SMS_FROM", \.textMessages.from) {
                "'\($0)' is not a phone number like +15557654321"
            },
            .flag("sms.lookup", "EDGE_SMS_LOOKUP", \.textMessages.lookup),
            .secret("llm.api_key", "OPENAI_API_KEY", \.llm.apiKey),
            .url("llm.base_url", "OPENAI_BASE_URL", \.llm.baseURL, schemes: ["http", "https"]),
            .string("llm.model", "EDGE_LLM_MODEL", \.llm.model),
            .optionalURL(
                "llm.fallback_base_url", "EDGE_LLM_FALLBACK_BASE_URL", \.llm.fallbackBaseURL,
                schemes: ["http", "https"]),
            .optionalString("llm.fallback_model", "EDGE_LLM_FALLBACK_MODEL", \.llm.fallbackModel),
            .secret("stt.deepgram_api_key", "DEEPGRAM_API_KEY", \.speechToText.deepgramAPIKey),
            .url("stt.deepgram_base_url", "DEEPGRAM_BASE_URL", \.speechToText.deepgramBaseURL, schemes: ["ws", "wss"]),
            .optionalURL(
                "stt.transcription_base_url", "EDGE_STT_BASE_URL", \.speechToText.transcriptionBaseURL,
                schemes: ["http", "https"]),
            .string("stt.model", "EDGE_STT_MODEL", \.speechToText.transcriptionModel),
            .secret("tts.api_key", "ELEVENLABS_API_KEY", \.textToSpeech.apiKey),
            .string("tts.model", "EDGE_TTS_MODEL", \.textToSpeech.model),
            .url("tts.base_url", "ELEVENLABS_BASE_URL", \.textToSpeech.baseURL, schemes: ["http", "https"]),
            .optionalString("tts.voice_en", "EDGE_VOICE_EN", \.textToSpeech.voiceEnglish),
            .optionalString("tts.voice_es", "EDGE_VOICE_ES", \.textToSpeech.voiceSpanish),
            .voiceChoices("tts.voices_en", "EDGE_VOICES_EN", language: "en"),
            .voiceChoices("tts.voices_es", "EDGE_VOICES_ES", language: "es"),
            .integer("tts.max_characters", "EDGE_TTS_MAX_CHARACTERS", \.textToSpeech.maxCharacters, in: 50...40_000),
            Setting(
                key: "tts.price_per_1000_characters", environment: "EDGE_TTS_PRICE_PER_1000_CHARACTERS",
                isSecret: false,
                apply: { configuration, raw throws(Setting.SettingError) in
                    guard let price = Double(raw), price >= 0, price < 1000 else {
                        throw Setting.SettingError(reason: "'\(raw)' is not a price like 0.30")
                    }
                    configuration.textToSpeech.pricePerThousandCharacters = price
                }, render: { "\($0.textToSpeech.pricePerThousandCharacters)" }),
            .integer("cache.disk_mb", "EDGE_CACHE_DISK_MB", \.phraseCache.diskMegabytes, in: 1...1_000_000),
            .integer("cache.memory_mb", "EDGE_CACHE_MEMORY_MB", \.phraseCache.memoryMegabytes, in: 1...65_536),
            .integer(
                "cache.warm_concurrency", "EDGE_CACHE_WARM_CONCURRENCY", \.phraseCache.warmConcurrency, in: 1...64),
            .optionalString("cache.catalog_dir", "EDGE_CATALOG_DIR", \.phraseCache.catalogFolder),
            .integer(
                "upstream.failure_threshold", "EDGE_UPSTREAM_FAILURE_THRESHOLD", \.resilience.failureThreshold,
                in: 1...1000),
            .seconds("upstream.open_seconds", "EDGE_UPSTREAM_OPEN_SECONDS", \.resilience.openSeconds, in: 0.1...3600),
            .integer(
                "upstream.max_concurrent", "EDGE_UPSTREAM_MAX_CONCURRENT", \.resilience.maxConcurrent, in: 1...1000),
            .seconds(
                "call.silence_budget_seconds", "EDGE_SILENCE_BUDGET_SECONDS", \.resilience.silenceBudgetSeconds,
                in: 0.5...10),
            .flag("listening.noise_suppression", "EDGE_NOISE_SUPPRESSION", \.listening.noiseSuppression),
            .flag("listening.echo_cancellation", "EDGE_ECHO_CANCELLATION", \.listening.echoCancellation),
            .integer("listening.barge_in_ms", "EDGE_BARGE_IN_MS", \.listening.bargeInMilliseconds, in: 0...2000),
            .seconds(
                "call.keypad_retry_seconds", "EDGE_KEYPAD_RETRY_SECONDS", \.resilience.keypadRetrySeconds, in: 0...3600),
            Setting(
                key: "recording.public_key", environment: "EDGE_RECORDING_PUBLIC_KEY", isSecret: false,
                apply: { configuration, raw throws(Setting.SettingError) in
                    guard !raw.isEmpty else {
                        configuration.recordingPublicKey = nil
                        return
                    }
                    guard let key = Data(base64Encoded: raw), key.count == 32 else {
                        throw Setting.SettingError(
                            reason:
                                "is not a base64 X25519 public key (32 bytes); make one with `edge-agent keys generate`"
                        )
                    }
                    configuration.recordingPublicKey = raw
                }, render: { $0.recordingPublicKey }),
            .flag("recording.enabled", "EDGE_RECORDING_ENABLED", \.recording.enabled),
            .flag("recording.notice", "EDGE_RECORDING_NOTICE", \.recording.noticeRequired),
            .flag("recording.twilio", "EDGE_RECORDING_TWILIO", \.recording.twilio),
            .flag("recording.twilio_delete", "EDGE_RECORDING_TWILIO_DELETE", \.recording.deleteAtTwilio),
            .flag(
                "recording.delete_after_upload", "EDGE_RECORDING_DELETE_AFTER_UPLOAD",
                \.recording.deleteAfterUpload),
            .integer(
                "recording.retention_days", "EDGE_RECORDING_RETENTION_DAYS", \.recording.retentionDays, in: 1...3650),
            .optionalURL("hq.url", "EDGE_HQ_URL", \.headquartersURL, schemes: ["http", "https"]),
            .integer("sync.interval_seconds", "EDGE_SYNC_INTERVAL_SECONDS", \.sync.intervalSeconds, in: 1...3600),
            .integer("sync.batch_rows", "EDGE_SYNC_BATCH_ROWS", \.sync.batchRows, in: 1...5000),
            .integer("sync.batch_kb", "EDGE_SYNC_BATCH_KB", \.sync.batchKilobytes, in: 16...8192),
            .secret("admin.token", "EDGE_ADMIN_TOKEN", \.adminToken),
            Setting(
                key: "admin.allowed_networks", environment: "EDGE_ADMIN_ALLOWED_NETWORKS", isSecret: false,
                acceptsList: true,
                apply: { configuration, raw throws(Setting.SettingError) in
                    switch NetworkAllowList.parse(raw) {
                    case .success(let list) where !list.networks.isEmpty:
                        configuration.adminAllowedNetworks = list
                    case .success:
                        throw Setting.SettingError(reason: "names no network; give at least one, like 192.168.1.0/24")
                    case .failure(let error):
                        throw Setting.SettingError(
                            reason:
                                "'\(error.entry.trimmingCharacters(in: .whitespaces))' is not an address or a network like 192.168.1.0/24"
                        )
                    }
                }, render: { $0.adminAllowedNetworks.description }),
            .string("restaurant.name", "EDGE_RESTAURANT_NAME", \.restaurant.name),
            .optionalPhone("restaurant.staff_phone", "EDGE_STAFF_PHONE", \.restaurant.staffPhone) { _ in
                "is not a phone number in international form (+15551234567)"
            },
            Setting(
                key: "restaurant.time_zone", environment: "EDGE_TIME_ZONE", isSecret: false,
                apply: { configuration, raw throws(Setting.SettingError) in
                    guard let zone = TimeZone(identifier: raw) else {
                        throw Setting.SettingError(reason: "'\(raw)' is not a time zone name like America/New_York")
                    }
                    configuration.reservations.timeZone = zone
                }, render: { $0.reservations.timeZone.identifier }),
            .integer("reservations.slot_minutes", "EDGE_SLOT_MINUTES", \.reservations.slotMinutes, in: 5...240),
            .integer("reservations.seats_per_slot", "EDGE_SEATS_PER_SLOT", \.reservations.seatsPerSlot, in: 1...10_000),
            .integer("reservations.max_party_size", "EDGE_MAX_PARTY_SIZE", \.reservations.maxPartySize, in: 1...1000),
            .integer("reservations.dining_minutes", "EDGE_DINING_MINUTES", \.reservations.diningMinutes, in: 5...720),
            .integer(
                "reservations.minimum_notice_minutes", "EDGE_MINIMUM_NOTICE_MINUTES",
                \.reservations.minimumNoticeMinutes,
                in: 0...10_080),
            .integer(
                "reservations.horizon_days", "EDGE_BOOKING_HORIZON_DAYS", \.reservations.bookingHorizonDays, in: 1...730
            ),
        ]
        + ReservationPolicy.weekdayKeys.enumerated().map { index, day in
            Setting.openingHours(weekday: index + 1, key: day)
        } + [
            Setting(
                key: "reservations.closed_dates", environment: "EDGE_CLOSED_DATES", isSecret: false, acceptsList: true,
                apply: { configuration, raw throws(Setting.SettingError) in
                    var dates = Set<LocalDate>()
                    for item in raw.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
                    where !item.isEmpty {
                        guard let date = LocalDate(item) else {
                            throw Setting.SettingError(reason: "'\(item)' is not a YYYY-MM-DD date")
                        }
                        dates.insert(date)
                    }
                    configuration.reservations.closedDates = dates
                },
                render: { configuration in
                    let dates = configuration.reservations.closedDates.sorted().map(\.description)
                    return dates.isEmpty ? "none" : dates.joined(separator: ", ")
                }),
            .optionalString("menu.seed_file", "EDGE_MENU_SEED_FILE", \.menuSeedFile),
            .choice(
                "log.level", "EDGE_LOG_LEVEL", \.logging.level,
                among: ["trace", "debug", "info", "notice", "warning", "error", "critical"]),
            .choice("log.format", "EDGE_LOG_FORMAT", \.logging.format, among: ["json", "text"]),
            .optionalURL(
                "tracing.otlp_endpoint", "EDGE_OTLP_ENDPOINT", \.tracing.otlpEndpoint, schemes: ["http", "https"]),
            .string("tracing.service_name", "EDGE_TRACING_SERVICE_NAME", \.tracing.serviceName),
            .seconds("shutdown.grace_seconds", "EDGE_SHUTDOWN_GRACE_SECONDS", \.shutdownGraceSeconds, in: 0...600),
            .seconds(
                "media.stall_timeout_seconds", "EDGE_MEDIA_STALL_SECONDS", \.mediaStreamStallSeconds, in: 0.5...300),
            Setting(
                key: "disk.minimum_free_mb", environment: "EDGE_MINIMUM_FREE_DISK_MB", isSecret: false,
                apply: { configuration, raw throws(Setting.SettingError) in
                    guard let megabytes = Int64(raw), (0...10_000_000).contains(megabytes) else {
                        throw Setting.SettingError(
                            reason: "'\(raw)' is not a whole number of megabytes from 0 to 10000000")
                    }
                    configuration.minimumFreeDiskBytes = megabytes * 1024 * 1024
                }, render: { "\($0.minimumFreeDiskBytes / 1024 / 1024)" }),
        ]

    /// Checks that settings fit together once all of them are read.
    func validated() throws(ConfigurationError) -> AgentConfiguration {
        let policy = reservations
        // A voice's settings are its own, whichever language lists it.
        let english = Dictionary(
            (textToSpeech.voiceChoices["en"] ?? []).map { ($0.id, $0.settings) },
            uniquingKeysWith: { first, _ in first })
        for choice in textToSpeech.voiceChoices["es"] ?? [] {
            if let settings = english[choice.id], settings != choice.settings {
                throw ConfigurationError(
                    "tts.voices_en and tts.voices_es give the voice \(choice.id) different settings; give it the same in both"
                )
            }
        }
        guard 1440 % policy.slotMinutes == 0 else {
            throw ConfigurationError(
                "reservations.slot_minutes (\(policy.slotMinutes)) must divide a day evenly, like 15, 20 or 30")
        }
        guard policy.maxPartySize <= policy.seatsPerSlot else {
            throw ConfigurationError(
                "reservations.max_party_size (\(policy.maxPartySize)) is larger than reservations.seats_per_slot "
                    + "(\(policy.seatsPerSlot))")
        }
        if llm.fallbackBaseURL != nil && llm.fallbackModel == nil {
            throw ConfigurationError(
                "llm.fallback_base_url is set but llm.fallback_model (EDGE_LLM_FALLBACK_MODEL) is not")
        }
        return self
    }
}

extension Setting {
    /// A list of voices for `language`: `id:Name` items, with the voice's settings after semicolons
    /// (`id:Name;stability=0.6;speed=0.95`), comma-separated; in the file a YAML list whose items are
    /// such text or mappings `{id, name, settings: {stability, similarity_boost, style, speed}}`.
    fileprivate static func voiceChoices(_ key: String, _ environment: String, language: String) -> Setting {
        var setting = Setting(
            key: key, environment: environment, isSecret: false,
            apply: { configuration, raw throws(SettingError) in
                var choices: [VoiceChoice] = []
                for item in raw.split(separator: ",") where !item.trimmingCharacters(in: .whitespaces).isEmpty {
                    let choice: VoiceChoice
                    switch VoiceChoice.parse(item: String(item)) {
                    case .success(let parsed): choice = parsed
                    case .failure(let error): throw SettingError(reason: error.reason)
                    }
                    guard !choices.contains(where: { $0.id == choice.id }) else {
                        throw SettingError(reason: "names the voice \(choice.id) twice")
                    }
                    choices.append(choice)
                }
                configuration.textToSpeech.voiceChoices[language] = choices
            },
            render: { configuration in
                (configuration.textToSpeech.voiceChoices[language] ?? []).map(\.item).joined(separator: ",")
            })
        setting.listItem = { fields throws(SettingError) in
            let known: Set<String> = ["id", "name"]
            let settings = fields.filter { $0.key.hasPrefix("settings.") }
            if let unknown = fields.keys.sorted().first(where: { !known.contains($0) && !$0.hasPrefix("settings.") }) {
                throw SettingError(reason: "a voice has no '\(unknown)' (id, name, settings)")
            }
            guard let id = fields["id"] else { throw SettingError(reason: "a voice needs an id") }
            let name = fields["name"] ?? id
            guard !name.contains(where: { ",;:".contains($0) }) else {
                throw SettingError(reason: "the name of voice \(id) must not contain a comma, semicolon or colon")
            }
            let pairs = settings.keys.sorted().map { "\($0.dropFirst("settings.".count))=\(settings[$0] ?? "")" }
            let item = ([id + ":" + name] + pairs).joined(separator: ";")
            // Checked here too, so an error names the item's own line rather than the list's.
            if case .failure(let error) = VoiceChoice.parse(item: item) { throw SettingError(reason: error.reason) }
            return item
        }
        setting.acceptsList = true
        return setting
    }

    /// `reservations.opening_hours.mon`: comma-separated `HH:MM-HH:MM` periods; empty means closed.
    fileprivate static func openingHours(weekday: Int, key day: String) -> Setting {
        var setting = Setting(
            key: "reservations.opening_hours.\(day)", environment: "EDGE_OPENING_HOURS_\(day.uppercased())",
            isSecret: false,
            apply: { configuration, raw throws(SettingError) in
                var periods: [ReservationPolicy.Period] = []
                for item in raw.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
                where !item.isEmpty && item.lowercased() != "closed" {
                    guard let period = ReservationPolicy.Period(item) else {
                        throw SettingError(reason: "'\(item)' is not an opening period like 17:00-22:00")
                    }
                    if let overlap = periods.first(where: { $0.opens < period.closes && period.opens < $0.closes }) {
                        throw SettingError(reason: "'\(item)' overlaps '\(overlap)'")
                    }
                    periods.append(period)
                }
                configuration.reservations.openingHours[weekday] = periods.sorted { $0.opens < $1.opens }
            },
            render: { configuration in
                let periods = configuration.reservations.openingHours[weekday] ?? []
                return periods.isEmpty ? "closed" : periods.map(\.description).joined(separator: ", ")
            })
        setting.acceptsList = true
        return setting
    }
}
