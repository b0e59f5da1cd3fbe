import Foundation
public import GRDB
public import Sync

/// A text message confirming a booking, a change or a cancellation, to be written in the same
/// transaction as the change it confirms (so it is never lost nor sent for a change that rolled back).
public struct TextConfirmation: Sendable {
    /// What the message confirms.
    public enum Kind: String, Sendable {
        case booked, changed, cancelled
    }

    public let kind: Kind
    /// The caller's number (E.164).
    public let to: String
    public let language: String
    /// The call that asked, whose caller may still consent on the keypad.
    public let callID: String?
    /// Whether the caller has agreed already (or a lookup will tell a mobile from a landline before
    /// sending): otherwise the message waits for their consent on the keypad.
    public let consented: Bool
    /// The message, made from the reservation as it is once changed.
    public let body: @Sendable (Reservation) -> String

    public init(
        kind: Kind, to: String, language: String, callID: String?, consented: Bool,
        body: @escaping @Sendable (Reservation) -> String
    ) {
        self.kind = kind
        self.to = to
        self.language = language
        self.callID = callID
        self.consented = consented
        self.body = body
    }
}

/// The queue of text confirmations (`text_confirmations`) and the numbers that said STOP
/// (`text_opt_outs`). A worker sends what is due; the queue survives restarts and days offline.
public struct TextConfirmations: Sendable {
    /// One queued message.
    public struct Message: Sendable, Equatable, FetchableRecord, Decodable {
        public let id: String
        public let reservationID: String
        public let kind: String
        public let to: String
        public let language: String
        public let body: String
        public let status: String
        public let attempts: Int
        public let callID: String?

        enum CodingKeys: String, CodingKey {
            case id, kind, language, body, status, attempts
            case reservationID = "reservation_id"
            case to = "to_phone"
            case callID = "call_id"
        }
    }

    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// Queues `confirmation` of `reservation` inside the caller's transaction, unless the number
    /// opted out. Returns whether a message was queued.
    @discardableResult
    public static func enqueue(
        _ confirmation: TextConfirmation, of reservation: Reservation, at now: Int64, in db: Database
    ) throws -> Bool {
        guard try !isOptedOut(confirmation.to, in: db) else { return false }
        try db.execute(
            sql: """
                INSERT INTO text_confirmations (id, reservation_id, call_id, kind, to_phone, language, body, status,
                    attempts, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
                """,
            arguments: [
                UUID().uuidString.lowercased(), reservation.id, confirmation.callID, confirmation.kind.rawValue,
                confirmation.to, confirmation.language, confirmation.body(reservation),
                confirmation.consented ? "pending" : "awaiting_consent", now, now,
            ])
        return true
    }

    static func isOptedOut(_ phone: String, in db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM text_opt_outs WHERE phone = ?", arguments: [phone]) ?? 0 > 0
    }

    /// The language of the last text queued for `phone`.
    public func lastLanguage(to phone: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(
                db, sql: "SELECT language FROM text_confirmations WHERE to_phone = ? ORDER BY created_at DESC LIMIT 1",
                arguments: [phone])
        }
    }

    /// Now, by the store's clock (Unix ms).
    public var nowMilliseconds: Int64 { database.clock.nowMilliseconds() }

    /// Whether `phone` said STOP.
    public func isOptedOut(_ phone: String) async throws -> Bool {
        try await database.read { db in try Self.isOptedOut(phone, in: db) }
    }

    /// Messages of `callID` waiting for the caller's consent.
    public func awaitingConsent(callID: String) async throws -> Int {
        try await database.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM text_confirmations WHERE call_id = ? AND status = 'awaiting_consent'",
                arguments: [callID]) ?? 0
        }
    }

    /// The caller of `callID` agreed on the keypad: their messages go out.
    public func consent(callID: String) async throws {
        try await database.write { db in
            try db.execute(
                sql:
                    "UPDATE text_confirmations SET status = 'pending' WHERE call_id = ? AND status = 'awaiting_consent'",
                arguments: [callID])
        }
    }

    /// The call ended without consent: its waiting messages are never sent.
    public func dropUnconsented(callID: String) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE text_confirmations SET status = 'skipped', last_error = 'no consent'
                    WHERE call_id = ? AND status = 'awaiting_consent'
                    """, arguments: [callID])
        }
    }

    /// Messages due to be sent now, oldest first.
    public func due(limit: Int = 20) async throws -> [Message] {
        let now = database.clock.nowMilliseconds()
        return try await database.read { db in
            try Message.fetchAll(
                db,
                sql: """
                    SELECT * FROM text_confirmations WHERE status = 'pending' AND next_attempt_at <= ?
                    ORDER BY created_at LIMIT ?
                    """, arguments: [now, limit])
        }
    }

    /// When the next pending message falls due (Unix ms), if any.
    public func nextDue() async throws -> Int64? {
        try await database.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT min(next_attempt_at) FROM text_confirmations WHERE status = 'pending'")
        }
    }

    public func markSent(_ id: String, providerID: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE text_confirmations SET status = 'sent', provider_id = ?, sent_at = ?, attempts = attempts + 1
                    WHERE id = ?
                    """, arguments: [providerID, now, id])
        }
    }

    /// A refusal that will not change (a landline, a number that cannot take texts).
    public func markSkipped(_ id: String, reason: String) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE text_confirmations SET status = 'skipped', last_error = ? WHERE id = ?",
                arguments: [reason, id])
        }
    }

    /// A failure worth trying again at `retryAt` (Unix ms).
    public func markRetry(_ id: String, reason: String, retryAt: Int64) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE text_confirmations SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
                    WHERE id = ?
                    """, arguments: [reason, retryAt, id])
        }
    }

    /// `phone` replied STOP: nothing more is sent to it, and what is queued for it is dropped.
    public func optOut(_ phone: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO text_opt_outs (phone, opted_out_at) VALUES (?, ?) ON CONFLICT (phone) DO NOTHING",
                arguments: [phone, now])
            try db.execute(
                sql: """
                    UPDATE text_confirmations SET status = 'skipped', last_error = 'opted out'
                    WHERE to_phone = ? AND status IN ('pending', 'awaiting_consent')
                    """, arguments: [phone])
        }
    }

    /// `phone` replied START: texts may be sent to it again.
    public func optIn(_ phone: String) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM text_opt_outs WHERE phone = ?", arguments: [phone])
        }
    }
}
