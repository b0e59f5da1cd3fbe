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

    /// What a call's row in the list and its detail both show.
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

    /// A call's facts and what one body adds to them, encoded as one flat object (as the OpenAPI
    /// document describes it); both parts' fields read as the body's own (`summary.id`, `summary.fallbacks`).
    @dynamicMemberLookup
    public struct CallBody<Extra: Codable & Sendable>: Codable, Sendable {
        /// What every call body shows.
        public var facts: CallFacts
        /// What this body adds.
        public var extra: Extra

        /// The body of a call with `facts` and `extra`.
        public init(facts: CallFacts, extra: Extra) {
            self.facts = facts
            self.extra = extra
        }

        /// A field of the call's facts.
        public subscript<Value>(dynamicMember path: KeyPath<CallFacts, Value>) -> Value { facts[keyPath: path] }
        /// A field the body adds.
        public subscript<Value>(dynamicMember path: KeyPath<Extra, Value>) -> Value { extra[keyPath: path] }

        public init(from decoder: any Decoder) throws {
            facts = try CallFacts(from: decoder)
            extra = try Extra(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try facts.encode(to: encoder)
            try extra.encode(to: encoder)
        }
    }

    /// A call in the list: the caller's number masked, and how often the call fell back.
    public typealias CallSummary = CallBody<CallListing>

    /// What the list adds to a call's facts.
    public struct CallListing: Codable, Sendable {
        /// How many times the call fell back (to a second provider, cached phrases or the keypad).
        public var fallbacks: Int
    }

    /// One turn of a call's transcript.
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

    /// One tool the model called during a call.
    public struct ToolCall: Codable, Sendable {
        public var tool: String
        public var status: String
        public var startedAt: String
        public var durationMs: Int
        public var arguments: String
        public var result: String
    }

    /// One metric of a call, by name.
    public struct Timing: Codable, Sendable {
        public var name: String
        public var value: Double
    }

    /// A call recording's metadata: its state, start, length and size.
    public struct RecordingInfo: Codable, Sendable {
        public var id: String
        public var state: String
        public var startedAt: String
        public var durationMs: Int?
        public var sizeBytes: Int?
    }

    /// One call: the caller's whole number, and what happened in it.
    public typealias CallDetail = CallBody<CallHistory>

    /// What a call's detail adds to its facts.
    public struct CallHistory: Codable, Sendable {
        /// The number called (the restaurant's).
        public var to: String
        /// What the caller and the agent said, in order.
        public var turns: [Turn]
        /// The tools the model called, in order, with their arguments and results.
        public var toolCalls: [ToolCall]
        /// The call's metrics (response latencies, fallbacks, escalations).
        public var timings: [Timing]
        /// The call's recordings, without their contents.
        public var recordings: [RecordingInfo]
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
