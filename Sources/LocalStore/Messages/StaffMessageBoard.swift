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
        try await leave(message: message, callbackPhone: callbackPhone, callID: callID, language: language, once: false)
            .message
    }

    /// Stores a message once per call: the same words left again by the same call (a repeated
    /// request) return the message already stored, with `alreadySaved`.
    public func leaveOnce(message: String, callbackPhone: String?, callID: String?, language: String?) async throws
        -> (message: StaffMessage, alreadySaved: Bool)
    {
        try await leave(message: message, callbackPhone: callbackPhone, callID: callID, language: language, once: true)
    }

    private func leave(message: String, callbackPhone: String?, callID: String?, language: String?, once: Bool)
        async throws -> (message: StaffMessage, alreadySaved: Bool)
    {
        let now = database.clock.nowMilliseconds()
        let entry = StaffMessage(
            id: UUID().uuidString.lowercased(), callID: callID, message: message, callbackPhone: callbackPhone,
            language: language, createdAt: now)
        return try await database.write { db in
            if once, let callID,
                let earlier = try StaffMessage.filter(Column("call_id") == callID && Column("message") == message)
                    .fetchOne(db)
            {
                return (earlier, true)
            }
            try entry.insert(db)
            try AuditLog.record(
                actor: "agent", action: "message.leave", entity: StaffMessage.databaseTableName, entityID: entry.id,
                at: now, in: db)
            return (entry, false)
        }
    }

    /// Messages not yet done, newest first.
    public func open() async throws -> [StaffMessage] {
        try await database.read { db in
            try StaffMessage.filter(Column("status") != StaffMessage.Status.done.rawValue)
                .order(Column("created_at").desc).fetchAll(db)
        }
    }

    /// Messages newest first, optionally only those with `status`, at most `limit`.
    public func list(status: StaffMessage.Status? = nil, limit: Int = 100) async throws -> [StaffMessage] {
        try await database.read { db in
            var request = StaffMessage.order(Column("created_at").desc, Column("id").desc)
            if let status {
                request = request.filter(Column("status") == status.rawValue)
            }
            return try request.limit(max(0, limit)).fetchAll(db)
        }
    }

    /// Marks the message done, audited under `actor`; nil for an unknown id. A message already done is
    /// returned as it is, and nothing is written again.
    public func markHandled(id: String, actor: String) async throws -> StaffMessage? {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            guard var message = try StaffMessage.fetchOne(db, key: id) else { return nil }
            guard message.status != .done else { return message }
            let previous = message.status
            message.status = .done
            try message.update(db)
            try AuditLog.record(
                actor: actor, action: "message.handled", entity: StaffMessage.databaseTableName, entityID: id,
                details: ["from": previous.rawValue], at: now, in: db)
            return message
        }
    }
}
