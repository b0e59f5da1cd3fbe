public import AudioIO
public import Foundation
public import LocalStore

/// The whole configuration of `edge-agent`, built once at start-up from embedded defaults, the
/// configuration file and the environment (which wins); nothing reads the environment later.
public struct AgentConfiguration: Sendable {
    /// Where the agent listens.
    public struct HTTP: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
    }

    /// Twilio account and REST endpoint.
    public struct Twilio: Sendable {
        public var accountSID: String?
        /// Signs webhooks; without it every webhook is refused.
        public var authToken: Secret?
        public var apiBaseURL = URL(string: "https://api.twilio.com")!
        /// Twilio Lookup, which tells a mobile from a landline before a text is sent.
        public var lookupBaseURL = URL(string: "https://lookups.twilio.com")!
    }

    /// Text confirmations of bookings, changes and cancellations.
    public struct TextMessages: Sendable {
        public var enabled = true
        /// The restaurant's Twilio number the texts come from (E.164); without it none is sent.
        public var from: String?
        /// Ask Twilio Lookup whether the caller's number is a mobile (else the caller consents on the keypad).
        public var lookup = false
    }

    /// The OpenAI-compatible chat completions endpoints.
    public struct LLM: Sendable {
        public var apiKey: Secret?
        public var baseURL = URL(string: "https://api.openai.com/v1")!
        public var model = "gpt-4o-mini"
        public var fallbackBaseURL: URL?
        public var fallbackModel: String?
    }

    /// Speech-to-text endpoints.
    public struct SpeechToText: Sendable {
        public var deepgramAPIKey: Secret?
        public var deepgramBaseURL = URL(string: "wss://api.deepgram.com")!
        /// OpenAI-compatible `/audio/transcriptions`; nil means the LLM's base URL.
        public var transcriptionBaseURL: URL?
        /// The transcription model.
        public var transcriptionModel = "gpt-4o-mini-transcribe"
    }

    /// ElevenLabs text-to-speech.
    public struct TextToSpeech: Sendable {
        public var apiKey: Secret?
        public var baseURL = URL(string: "https://api.elevenlabs.io")!
        public var voiceEnglish: String?
        public var voiceSpanish: String?
        /// The voices staff may choose from, per language (`tts.voices_en`: `id:Name` items with optional
        /// settings); the
        /// configured `voice_en` / `voice_es` is always among them, and is the one used until staff
        /// choose another.
        public var voiceChoices: [String: [VoiceChoice]] = [:]

        /// The configured voice of each language that has one (`en`, `es`).
        public var voicesByLanguage: [String: String] {
            var voices: [String: String] = [:]
            voices["en"] = voiceEnglish
            voices["es"] = voiceSpanish
            return voices
        }

        /// The voices of `language` staff may choose from, the configured default first.
        public func choices(for language: String) -> [VoiceChoice] {
            let configured = language == "es" ? voiceSpanish : voiceEnglish
            var choices = voiceChoices[language] ?? []
            if let configured, !choices.contains(where: { $0.id == configured }) {
                choices.insert(VoiceChoice(id: configured, name: configured), at: 0)
            }
            return choices
        }
        /// Each configured voice's own settings, by voice id.
        public var voiceSettings: [String: VoiceStyle] {
            var settings: [String: VoiceStyle] = [:]
            for choice in voiceChoices.values.joined() { settings[choice.id] = choice.settings }
            return settings
        }
        public var model = "eleven_flash_v2_5"
        /// The longest text sent in one request; longer text is split at sentence ends.
        public var maxCharacters = 5000
        /// What the provider charges per 1,000 characters, for `cache stats`' money saved.
        public var pricePerThousandCharacters = 0.30
    }

    /// The phrase cache.
    public struct PhraseCacheSettings: Sendable {
        /// Disk budget; least recently heard unpinned phrases are evicted beyond it.
        public var diskMegabytes = 512
        /// Memory tier budget.
        public var memoryMegabytes = 32
        /// Phrases fetched at once while warming.
        public var warmConcurrency = 4
        /// A folder with `en.yaml` and `es.yaml` to use instead of the shipped phrase catalog.
        public var catalogFolder: String?
    }

    /// Call recording (with `recording.public_key` set).
    public struct RecordingSettings: Sendable {
        /// Record calls at all.
        public var enabled = true
        /// Play the recording notice before recording starts.
        public var noticeRequired = true
        /// Recordings older than this many days are deleted (file and key).
        public var retentionDays = 90
        /// Twilio records each call too (two channels, `<Start><Recording>`); its recording callback
        /// downloads the file, which is stored encrypted like the box's own.
        public var twilio = false
        /// Delete Twilio's copy once the box holds it encrypted.
        public var deleteAtTwilio = false
        /// Delete the box's copy of a recording once headquarters has verified and stored it.
        public var deleteAfterUpload = false
    }

    /// How the agent treats each upstream (ElevenLabs, the LLMs, speech-to-text, Twilio).
    public struct Resilience: Sendable {
        /// Consecutive failures that open a provider's circuit.
        public var failureThreshold = 5
        /// How long an open circuit rejects requests before one probe is let through.
        public var openSeconds = 30.0
        /// Requests in flight at once per provider (the account's concurrency limit).
        public var maxConcurrent = 10
        /// The longest a caller waits in silence after they stop speaking before hearing something.
        public var silenceBudgetSeconds = 1.5
        /// How long a call stays on the keypad flow before speech is tried again (when the circuits are closed).
        public var keypadRetrySeconds = 20.0
    }

    /// How the caller is heard (see ``CallerListener``).
    public struct Listening: Sendable {
        /// Noise suppression and automatic gain on the caller's audio (off by default: measured worse
        /// for finding speech in babble, clatter and music; see the README).
        public var noiseSuppression = false
        /// Cancelling the agent's own voice echoed back by the caller's phone.
        public var echoCancellation = true
        /// Speech over the agent's voice, in milliseconds, before it counts as an interruption.
        public var bargeInMilliseconds = 300

        /// The listener's settings.
        public var listenerSettings: CallerListener.Settings {
            var settings = CallerListener.Settings()
            if noiseSuppression || echoCancellation {
                var cleaning = CallerAudioCleaner.Settings()
                cleaning.echoCancellation = echoCancellation
                cleaning.noiseSuppression = noiseSuppression
                cleaning.automaticGain = noiseSuppression
                settings.cleaning = cleaning
            } else {
                settings.cleaning = nil
            }
            settings.bargeInSpeech = .milliseconds(bargeInMilliseconds)
            return settings
        }
    }

    /// The restaurant itself.
    public struct Restaurant: Sendable {
        public var name = "The Restaurant"
        /// Where `transfer_to_staff` sends the caller.
        public var staffPhone: String?
    }

    /// Logging output.
    public struct Logging: Sendable {
        /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
        public var level = "info"
        /// `json` (one object per line, for journald) or `text`.
        public var format = "json"
    }

    /// Spans per call turn, exported over OTLP/HTTP.
    public struct TracingSettings: Sendable {
        /// The OTLP/HTTP collector (`http://collector:4318`); spans go to its `/v1/traces`. nil means
        /// no export: spans go to a no-op tracer.
        public var otlpEndpoint: URL?
        /// `service.name` of the exported spans.
        public var serviceName = "edge-agent"
    }

    public var dataDirectory = "./edge-agent-data"
    public var http = HTTP()
    /// The URL Twilio uses to reach the box: webhook signatures are checked against it, and the
    /// Media Stream URL is built from it.
    public var publicURL = URL(string: "http://127.0.0.1:8080")!
    public var twilio = Twilio()
    public var llm = LLM()
    public var speechToText = SpeechToText()
    public var textToSpeech = TextToSpeech()
    public var phraseCache = PhraseCacheSettings()
    public var resilience = Resilience()
    public var listening = Listening()
    public var textMessages = TextMessages()
    /// Base64 X25519 public key of the owner; nil means no recording.
    public var recordingPublicKey: String?
    public var recording = RecordingSettings()
    /// Headquarters' sync endpoint; nil means sync off.
    public var headquartersURL: URL?
    public var sync = SyncSettings()

    /// The sync with headquarters (after `edge-agent provision`).
    public struct SyncSettings: Sendable {
        /// Seconds between rounds when all is well (failures back off from it, up to five minutes).
        public var intervalSeconds = 10
        /// Most changes per upload batch, and most kilobytes of them.
        public var batchRows = 500
        public var batchKilobytes = 1024
    }
    /// A technician's bearer token for the admin API from the configuration, beside those made with
    /// `edge-agent tokens add`; nil means none.
    public var adminToken: Secret?
    /// The networks the admin API and the staff page answer.
    public var adminAllowedNetworks = NetworkAllowList.lan
    public var restaurant = Restaurant()
    /// Booking rules.
    public var reservations = ReservationPolicy(
        timeZone: TimeZone(identifier: "America/New_York")!,
        openingHours: Dictionary(
            uniqueKeysWithValues: (2...7).map { ($0, [ReservationPolicy.Period("17:00-22:00")!]) }))
    /// A JSON seed menu to load on first start instead of the embedded one.
    public var menuSeedFile: String?
    public var logging = Logging()
    public var tracing = TracingSettings()
    /// How long a Media Stream may send nothing before the call is considered gone (Twilio sends every 20 ms).
    public var mediaStreamStallSeconds = 10.0
    /// How long a graceful stop waits for in-flight requests and calls before cancelling them.
    public var shutdownGraceSeconds = 30.0
    /// Free space under the data folder below which `/readyz` reports the disk degraded.
    public var minimumFreeDiskBytes: Int64 = 500 * 1024 * 1024

    /// The embedded defaults: loopback only, data under `./edge-agent-data`, no upstream accounts.
    public init() {}

    /// The path of the SQLite database.
    public var databasePath: String {
        (dataDirectory as NSString).appendingPathComponent(EdgeDatabase.fileName)
    }

    /// `EDGE_DATA_DIR/recordings`: the encrypted recordings.
    public var recordingsFolder: String {
        (dataDirectory as NSString).appendingPathComponent("recordings")
    }

    /// The WebSocket URL Twilio opens for a call's Media Stream: the public URL's host with `wss`
    /// (`ws` when the public URL is plain http, for local tests).
    public var mediaStreamURL: String {
        var components = URLComponents(url: publicURL, resolvingAgainstBaseURL: false)!
        components.scheme = publicURL.scheme == "http" ? "ws" : "wss"
        let basePath = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        components.path = basePath + "/twilio/media"
        components.query = nil
        return components.string!
    }
}

/// A cloud voice staff may choose: the provider's id, the name staff see, and the voice's own
/// settings (ElevenLabs' `voice_settings`; the standard ones when not configured).
public struct VoiceChoice: Sendable, Hashable, Encodable {
    public let id: String
    public let name: String
    /// What the voice is asked for by default; a call adjusts it (calmer, slower) from here.
    public let settings: VoiceStyle

    public init(id: String, name: String, settings: VoiceStyle = .standard) {
        self.id = id
        self.name = name
        self.settings = settings.spoken(by: nil)
    }

    /// `id`, `id:Name` or `id:Name;stability=0.6;speed=0.95`; the reason when it is not one.
    public static func parse(item: String) -> Result<VoiceChoice, VoiceSettingsError> {
        var parts = item.split(separator: ";", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let voice = parts.removeFirst().split(separator: ":", maxSplits: 1).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let id = voice.first, !id.isEmpty,
            id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        else {
            return .failure(VoiceSettingsError(reason: "'\(item)' is not a voice like 21m00Tcm4TlvDq8ikWAM:Rachel"))
        }
        var pairs: [(name: String, value: String)] = []
        for part in parts {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else {
                return .failure(VoiceSettingsError(reason: "'\(part)' of voice \(id) is not a setting like speed=0.95"))
            }
            pairs.append((pair[0], pair[1]))
        }
        return VoiceStyle.parse(pairs).map { settings in
            VoiceChoice(id: id, name: voice.count > 1 && !voice[1].isEmpty ? voice[1] : id, settings: settings)
        }
    }

    /// The item form ``parse(item:)`` reads back.
    public var item: String {
        ([id + ":" + name] + settings.changedSettings.map { "\($0.name)=\($0.value)" }).joined(separator: ";")
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, settings
    }

    private enum SettingsKeys: String, CodingKey {
        case stability
        case similarityBoost = "similarity_boost"
        case style
        case speed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        var nested = container.nestedContainer(keyedBy: SettingsKeys.self, forKey: .settings)
        try nested.encode(settings.stability, forKey: .stability)
        try nested.encode(settings.similarityBoost, forKey: .similarityBoost)
        try nested.encode(settings.style, forKey: .style)
        try nested.encode(settings.speed, forKey: .speed)
    }
}
