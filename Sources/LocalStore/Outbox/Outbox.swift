import Foundation
public import GRDB
public import Sync

/// The queue of changes headquarters must receive.
///
/// ``enqueue(_:in:)`` takes the caller's `Database`, so the change and its outbox row commit or
/// roll back together: there is no moment at which a row exists that headquarters will never hear of.
public enum Outbox {
    /// Appends `change` to the outbox inside the caller's transaction.
    public static func enqueue(_ change: SyncChange, in db: Database) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = String(decoding: try encoder.encode(change), as: UTF8.self)
        let entry = OutboxEntry(
            id: nil, tableName: change.table.rawValue, rowID: change.rowID, operation: change.operation,
            version: change.version, payload: payload, createdAt: change.changedAt, sentAt: nil, attempts: 0,
            lastError: nil)
        try entry.insert(db)
    }

    /// Appends an upsert of `row` inside the caller's transaction.
    /// The change is stamped by the ``HybridLogicalClock`` (`milliseconds` unless that would not be
    /// later than every stamp before).
    public static func enqueueUpsert(_ row: SyncRow, at milliseconds: Int64, in db: Database) throws {
        try enqueue(.upsert(row, changedAt: HybridLogicalClock.stamp(physical: milliseconds, in: db)), in: db)
    }

    /// The oldest unsent entries, oldest first.
    public static func pending(limit: Int, in db: Database) throws -> [OutboxEntry] {
        try OutboxEntry.filter(Column("sent_at") == nil).order(Column("id")).limit(limit).fetchAll(db)
    }

    /// How many entries wait, and when the oldest was written (Unix ms), for status and metrics.
    public static func backlog(in db: Database) throws -> (count: Int, oldestCreatedAt: Int64?) {
        let row = try Row.fetchOne(
            db, sql: "SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE sent_at IS NULL")
        return (row?["n"] ?? 0, row?["oldest"])
    }

    /// Marks entries as received by headquarters.
    public static func markSent(ids: [Int64], at milliseconds: Int64, in db: Database) throws {
        try OutboxEntry.filter(ids.contains(Column("id"))).updateAll(db, Column("sent_at").set(to: milliseconds))
    }

    /// Marks an entry headquarters refused for good: it is not sent again, and keeps the reason.
    public static func markRejected(id: Int64, reason: String, at milliseconds: Int64, in db: Database) throws {
        try OutboxEntry.filter(Column("id") == id).updateAll(
            db, Column("sent_at").set(to: milliseconds), Column("last_error").set(to: String(reason.prefix(500))),
            Column("attempts") += 1)
    }

    /// Counts a failed attempt to send `ids`, with the reason.
    public static func noteFailure(ids: [Int64], reason: String, in db: Database) throws {
        try OutboxEntry.filter(ids.contains(Column("id"))).updateAll(
            db, Column("last_error").set(to: String(reason.prefix(500))), Column("attempts") += 1)
    }
}
