import Foundation
import LocalStore
import Sync

/// The bodies of `/api/v1`, as `Sources/EdgeAgent/Resources/admin-openapi.json` describes them.
/// Encoded with snake_case keys; times of day and dates in the restaurant's time zone, instants as
/// ISO 8601 UTC.
public enum AdminJSON {
    public struct Me: Codable, Sendable, Equatable {
        public var name: String
        public var role: String
    }

    public struct Session: Codable, Sendable {
        public var name: String
        public var role: String
        public var csrfToken: String
    }

    public struct Login: Codable, Sendable {
        public var token: String?
        public var name: String?
        public var pin: String?
    }

    public struct ReservationBody: Codable, Sendable {
        public var id: String
        public var name: String
        public var phone: String?
        public var partySize: Int
        public var date: String
        public var time: String
        public var status: String
        public var source: String
        public var notes: String?
        public var version: Int64

        init(_ reservation: Reservation, timeZone: TimeZone) {
            let start = Date(unixMilliseconds: reservation.startsAt)
            id = reservation.id
            name = reservation.name
            phone = reservation.phone
            partySize = reservation.partySize
            date = LocalDate(start, in: timeZone).description
            time = LocalTime(start, in: timeZone).description
            status = reservation.status.rawValue
            source = reservation.source.rawValue
            notes = reservation.notes
            version = reservation.version
        }
    }

    public struct NewReservation: Codable, Sendable {
        public var name: String
        public var partySize: Int
        public var date: String
        public var time: String
        public var phone: String?
        public var notes: String?
    }

    public struct ReservationChange: Codable, Sendable {
        public var date: String?
        public var time: String?
        public var partySize: Int?
        public var notes: String?
    }

    public struct Slot: Codable, Sendable, Equatable {
        public var time: String
        public var covers: Int
        public var seats: Int
    }

    public struct Book: Codable, Sendable {
        public var date: String
        public var slots: [Slot]
        public var reservations: [ReservationBody]
        /// The next times today with seats left for a party of two, from now on.
        public var nextFree: [String]
    }

    /// What a call's row in the list and its detail both show, encoded flat into either body.
    public struct CallFacts: Codable, Sendable {
        public var id: String
        public var startedAt: String
        public var durationSeconds: Int?
        public var status: String
        public var outcome: String?
        public var language: String?
        /// The caller's number: in the list all but its last four digits hidden, whole in the detail.
        public var from: String
    }

    /// A call in the list: its facts, the caller's number masked, and how often it fell back.
    @dynamicMemberLookup
    public struct CallSummary: Codable, Sendable {
        public var facts: CallFacts
        public var fallbacks: Int

        public init(facts: CallFacts, fallbacks: Int) {
            self.facts = facts
            self.fallbacks = fallbacks
        }

        public subscript<Value>(dynamicMember path: KeyPath<CallFacts, Value>) -> Value { facts[keyPath: path] }

        private enum CodingKeys: String, CodingKey { case fallbacks }

        public init(from decoder: any Decoder) throws {
            facts = try CallFacts(from: decoder)
            fallbacks = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .fallbacks)
        }

        public func encode(to encoder: any Encoder) throws {
            try facts.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(fallbacks, forKey: .fallbacks)
        }
    }

    public struct Turn: Codable, Sendable {
        public var sequence: Int
        public var speaker: String
        public var text: String
        public var language: String?
        public var startedAt: String
        public var interrupted: Bool
        /// End of speech to the first frame of the answer, when measured.
        public var responseMilliseconds: Int?
    }

    public struct ToolCall: Codable, Sendable {
        public var tool: String
        public var status: String
        public var startedAt: String
        public var durationMs: Int
        public var arguments: String
        public var result: String
    }

    public struct Timing: Codable, Sendable {
        public var name: String
        public var value: Double
    }

    public struct RecordingInfo: Codable, Sendable {
        public var id: String
        public var state: String
        public var startedAt: String
        public var durationMs: Int?
        public var sizeBytes: Int?
    }

    /// One call: its facts with the caller's whole number, and what happened in it.
    @dynamicMemberLookup
    public struct CallDetail: Codable, Sendable {
        public var facts: CallFacts
        public var to: String
        public var turns: [Turn]
        public var toolCalls: [ToolCall]
        public var timings: [Timing]
        public var recordings: [RecordingInfo]

        public init(
            facts: CallFacts, to: String, turns: [Turn], toolCalls: [ToolCall], timings: [Timing],
            recordings: [RecordingInfo]
        ) {
            self.facts = facts
            self.to = to
            self.turns = turns
            self.toolCalls = toolCalls
            self.timings = timings
            self.recordings = recordings
        }

        public subscript<Value>(dynamicMember path: KeyPath<CallFacts, Value>) -> Value { facts[keyPath: path] }

        private enum CodingKeys: String, CodingKey { case to, turns, toolCalls, timings, recordings }

        public init(from decoder: any Decoder) throws {
            facts = try CallFacts(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            to = try container.decode(String.self, forKey: .to)
            turns = try container.decode([Turn].self, forKey: .turns)
            toolCalls = try container.decode([ToolCall].self, forKey: .toolCalls)
            timings = try container.decode([Timing].self, forKey: .timings)
            recordings = try container.decode([RecordingInfo].self, forKey: .recordings)
        }

        public func encode(to encoder: any Encoder) throws {
            try facts.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(to, forKey: .to)
            try container.encode(turns, forKey: .turns)
            try container.encode(toolCalls, forKey: .toolCalls)
            try container.encode(timings, forKey: .timings)
            try container.encode(recordings, forKey: .recordings)
        }
    }

    public struct Message: Codable, Sendable {
        public var id: String
        public var message: String
        public var callbackPhone: String?
        public var language: String?
        public var status: String
        public var createdAt: String
        public var callId: String?
    }

    public struct MenuItemBody: Codable, Sendable {
        public var id: String
        public var category: String
        public var name: String
        public var description: String
        public var priceCents: Int
        public var currency: String
        public var available: Bool
    }

    public struct Availability: Codable, Sendable {
        public var available: Bool
    }

    public struct Check: Codable, Sendable {
        public var status: String
        public var detail: String?
    }

    public struct SyncStatus: Codable, Sendable {
        public var backlog: Int
        public var oldestUnsentAt: String?
        public var lastSuccessAt: String?
        public var lastError: String?
        public var recordingsWaiting: Int
    }

    public struct CacheStatus: Codable, Sendable {
        public var hitRate: Double
        public var entries: Int
        public var bytes: Int64
        public var charactersSaved: Int64
        public var moneySaved: Double
    }

    public struct Health: Codable, Sendable {
        public var status: String
        public var checks: [String: Check]
        public var sync: SyncStatus
        public var diskFreeBytes: Int64?
        public var phraseCache: CacheStatus
    }

    public struct Setting: Codable, Sendable {
        public var key: String
        public var value: String?
        public var environment: String
    }

    public struct Configuration: Codable, Sendable {
        public var settings: [Setting]
    }

    public struct PhoneRequest: Codable, Sendable {
        public var phone: String
    }

    public struct Erasure: Codable, Sendable {
        public var customers: Int
        public var reservations: Int
        public var calls: Int
        public var turns: Int
        public var recordings: Int
        public var messages: Int
    }

    public struct AuditRow: Codable, Sendable {
        public var at: String
        public var actor: String
        public var action: String
        public var entity: String
        public var entityId: String?
    }

    static func instant(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(unixMilliseconds: milliseconds))
    }

    /// `+15551234567` as `•••4567`: enough to tell two callers apart in a list.
    static func masked(_ phone: String) -> String {
        phone.count > 4 ? "•••" + phone.suffix(4) : "•••"
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}
