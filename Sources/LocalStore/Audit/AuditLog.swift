import Foundation
public import GRDB

/// Writes and reads the audit log; writes join the caller's transaction.
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

    /// The entries about one record, oldest first.
    public static func entries(entity: String, entityID: String, in db: Database) throws -> [AuditEntry] {
        try AuditEntry.filter(Column("entity") == entity && Column("entity_id") == entityID).order(Column("id"))
            .fetchAll(db)
    }
}
