import Foundation
public import GRDB

/// What the sync worker last did, kept in `sync_state`: when it last succeeded, its last error and
/// when, for `edge-agent sync status` and `/metrics`. Errors are stored as the technician's message,
/// never with credentials.
public struct SyncState: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// A snapshot of the sync's health.
    public struct Status: Sendable, Equatable, Codable {
        public var backlog: Int
        /// When the oldest unsent change was made (Unix ms).
        public var oldestUnsentAt: Int64?
        public var lastSuccessAt: Int64?
        public var lastError: String?
        public var lastErrorAt: Int64?
        /// Closed recordings whose file headquarters has not stored yet.
        public var recordingsWaiting = 0

        enum CodingKeys: String, CodingKey {
            case backlog
            case oldestUnsentAt = "oldest_unsent_at"
            case lastSuccessAt = "last_success_at"
            case lastError = "last_error"
            case lastErrorAt = "last_error_at"
            case recordingsWaiting = "recordings_waiting"
        }
    }

    public func status() async throws -> Status {
        try await database.read { db in
            let backlog = try Outbox.backlog(in: db)
            let values = try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, value FROM sync_state").map {
                    (row: Row) -> (String, String) in (row["id"], row["value"])
                })
            return Status(
                backlog: backlog.count, oldestUnsentAt: backlog.oldestCreatedAt,
                lastSuccessAt: values["last_success_at"].flatMap { Int64($0) }, lastError: values["last_error"],
                lastErrorAt: values["last_error_at"].flatMap { Int64($0) },
                recordingsWaiting: try RecordingVault.uploadBacklog(in: db).count)
        }
    }

    /// A round with headquarters succeeded.
    public func recordSuccess() async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in try Self.set("last_success_at", "\(now)", at: now, in: db) }
    }

    /// A round failed, for this reason.
    public func recordFailure(_ reason: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try Self.set("last_error", String(reason.prefix(500)), at: now, in: db)
            try Self.set("last_error_at", "\(now)", at: now, in: db)
        }
    }

    /// A stored value (cursors), or nil.
    public func value(_ key: String) async throws -> String? {
        try await database.read { db in try Self.value(key, in: db) }
    }

    /// A stored value read inside the caller's transaction, or nil.
    public static func value(_ key: String, in db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM sync_state WHERE id = ?", arguments: [key])
    }

    /// Sets a value inside the caller's transaction (a download cursor commits with its rows).
    public static func set(_ key: String, _ value: String, at now: Int64, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO sync_state (id, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, arguments: [key, value, now])
    }
}
