import Foundation
import GRDB

/// Messages for the staff, left by callers.
public struct StaffMessageBoard: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// Stores a message (with an audit entry) and returns it.
    public func leave(message: String, callbackPhone: String?, callID: String?, language: String?) async throws
        -> StaffMessage
    {
        let now = database.clock.nowMilliseconds()
        let entry = StaffMessage(
            id: UUID().uuidString.lowercased(), callID: callID, message: message, callbackPhone: callbackPhone,
            language: language, createdAt: now)
        try await database.write { db in
            try entry.insert(db)
            try AuditLog.record(
                actor: "agent", action: "message.leave", entity: StaffMessage.databaseTableName, entityID: entry.id,
                at: now, in: db)
        }
        return entry
    }

    /// Messages not yet done, newest first.
    public func open() async throws -> [StaffMessage] {
        try await database.read { db in
            try StaffMessage.filter(Column("status") != StaffMessage.Status.done.rawValue)
                .order(Column("created_at").desc).fetchAll(db)
        }
    }
}
