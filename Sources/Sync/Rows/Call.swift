/// One phone call, from Twilio's first webhook to its end.
public struct Call: Codable, Sendable, Equatable, Identifiable {
    /// Twilio's call statuses; raw values are Twilio's spellings with `-` as `_`.
    public enum Status: String, Codable, Sendable, CaseIterable {
        case queued
        case initiated
        case ringing
        case inProgress = "in_progress"
        case completed
        case busy
        case failed
        case noAnswer = "no_answer"
        case canceled

        /// Reads Twilio's `CallStatus` form value (`in-progress`, `no-answer`, ...).
        public init?(twilioValue: String) {
            self.init(rawValue: twilioValue.replacingOccurrences(of: "-", with: "_"))
        }

        /// How far along a call is: statuses only move to a higher value. All terminal ones rank equal,
        /// so the first terminal status reported stays.
        public var progress: Int {
            switch self {
            case .queued: 0
            case .initiated: 1
            case .ringing: 2
            case .inProgress: 3
            case .completed, .busy, .failed, .noAnswer, .canceled: 4
            }
        }

        /// Whether the call is over; a terminal status never goes back to a live one.
        public var isTerminal: Bool {
            switch self {
            case .completed, .busy, .failed, .noAnswer, .canceled: true
            case .queued, .initiated, .ringing, .inProgress: false
            }
        }
    }

    public var id: String
    /// Twilio's CallSid (`CA` and 32 hex digits), unique.
    public var callSid: String
    /// Caller in E.164 (or Twilio's `client:` / SIP form).
    public var fromNumber: String
    public var toNumber: String
    public var direction: String
    public var status: Status
    /// `en` or `es` once known.
    public var language: String?
    /// What the call achieved (for example `reservation_created`, `message_taken`, `transferred`).
    public var outcome: String?
    public var startedAt: Int64
    public var endedAt: Int64?
    public var durationSeconds: Int?
    /// `phone` (through Twilio) or `local` (`edge-agent talk`, through the box's own headset).
    public var source: String
    public var version: Int64
    public var updatedAt: Int64

    public init(
        id: String, callSid: String, fromNumber: String, toNumber: String, direction: String = "inbound",
        status: Status, language: String? = nil, outcome: String? = nil, startedAt: Int64, endedAt: Int64? = nil,
        durationSeconds: Int? = nil, source: String = "phone", version: Int64 = 1, updatedAt: Int64
    ) {
        self.source = source
        self.id = id
        self.callSid = callSid
        self.fromNumber = fromNumber
        self.toNumber = toNumber
        self.direction = direction
        self.status = status
        self.language = language
        self.outcome = outcome
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.durationSeconds = durationSeconds
        self.version = version
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case callSid = "call_sid"
        case fromNumber = "from_number"
        case toNumber = "to_number"
        case direction
        case status
        case language
        case outcome
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case durationSeconds = "duration_seconds"
        case source
        case version
        case updatedAt = "updated_at"
    }

    /// Decodes a call; one recorded before local calls existed came by phone.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        callSid = try container.decode(String.self, forKey: .callSid)
        fromNumber = try container.decode(String.self, forKey: .fromNumber)
        toNumber = try container.decode(String.self, forKey: .toNumber)
        direction = try container.decode(String.self, forKey: .direction)
        status = try container.decode(Status.self, forKey: .status)
        language = try container.decodeIfPresent(String.self, forKey: .language)
        outcome = try container.decodeIfPresent(String.self, forKey: .outcome)
        startedAt = try container.decode(Int64.self, forKey: .startedAt)
        endedAt = try container.decodeIfPresent(Int64.self, forKey: .endedAt)
        durationSeconds = try container.decodeIfPresent(Int.self, forKey: .durationSeconds)
        source = try container.decodeIfPresent(String.self, forKey: .source) ?? "phone"
        version = try container.decode(Int64.self, forKey: .version)
        updatedAt = try container.decode(Int64.self, forKey: .updatedAt)
    }
}
