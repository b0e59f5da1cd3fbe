import Foundation
public import GRDB

/// Writes and reads the audit log; writes join the caller's transaction.
///
/// The log is append-only: SQLite triggers refuse to update or delete an entry (`audit_log is
/// append-only`), so nothing personal may ever be written into it (an erasure could not remove it).
public enum AuditLog {
    /// Appends an entry inside the caller's transaction. `details` must hold no personal data.
    public static func record(
        actor: String, action: String, entity: String, entityID: String?, details: [String: String] = [:],
        at milliseconds: Int64, in db: Database
    ) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(details), as: UTF8.self)
        let entry = AuditEntry(
            at: milliseconds, actor: actor, action: action, entity: entity, entityID: entityID, details: json)
        try entry.insert(db)
    }

    /// Notes that `actor` looked at personal data (a call's transcript, a caller's profile), as the
    /// action `read.<what>` on `entity`/`entityID`, for example `read.transcript` on `calls`.
    public static func recordRead(
        actor: String, entity: String, entityID: String?, what: String, at milliseconds: Int64, in db: Database
    ) throws {
        try record(actor: actor, action: "read.\(what)", entity: entity, entityID: entityID, at: milliseconds, in: db)
    }

    /// The entries about one record, oldest first.
    public static func entries(entity: String, entityID: String, in db: Database) throws -> [AuditEntry] {
        try AuditEntry.filter(Column("entity") == entity && Column("entity_id") == entityID).order(Column("id"))
            .fetchAll(db)
    }

    /// The latest `limit` entries, newest first.
    public static func recent(limit: Int, in db: Database) throws -> [AuditEntry] {
        try AuditEntry.order(Column("id").desc).limit(max(0, limit)).fetchAll(db)
    }
}
