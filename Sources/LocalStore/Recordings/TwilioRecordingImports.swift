import Foundation
public import GRDB
public import Sync

/// One recording Twilio made of a call, as its recording callback announced it: a row of
/// `twilio_recording_imports`, keyed by the RecordingSid.
public struct TwilioRecordingImport: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "twilio_recording_imports"

    /// Where an import stands.
    public enum State: String, Codable, Sendable {
        /// Announced, not yet stored on the box (or the last attempt failed and will be retried).
        case pending
        /// Stored encrypted on the box as `recording_id`.
        case imported
        /// Given up: Twilio says the recording does not exist, or it is not audio the box can read.
        case failed
    }

    /// Twilio's RecordingSid (`RE…`).
    public var id: String
    public var callSid: String
    public var state: State
    public var recordingID: String?
    /// When the copy at Twilio was deleted (Unix ms), when configuration asks for it.
    public var deletedAtTwilio: Int64?
    public var attempts: Int
    /// What went wrong last, for a technician (never holds credentials or phone numbers).
    public var lastError: String?
    public var createdAt: Int64
    public var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case id
        case callSid = "call_sid"
        case state
        case recordingID = "recording_id"
        case deletedAtTwilio = "deleted_at_twilio"
        case attempts
        case lastError = "last_error"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// The imports of Twilio's own recordings: asked for by the recording callback, done in the
/// background, retried after a failure or a restart, and each finished one stored with its
/// `recordings` row in one transaction.
public struct TwilioRecordingImports: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// Notes a completed recording to import. A repeated callback for the same RecordingSid changes
    /// nothing and returns false.
    @discardableResult
    public func request(recordingSid: String, callSid: String) async throws -> Bool {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            guard try TwilioRecordingImport.fetchOne(db, key: recordingSid) == nil else { return false }
            try TwilioRecordingImport(
                id: recordingSid, callSid: callSid, state: .pending, attempts: 0, createdAt: now, updatedAt: now
            ).insert(db)
            return true
        }
    }

    /// The imports still to do, oldest first: pending ones, and (with `includeUndeleted`) imported
    /// ones whose copy at Twilio is still to be deleted.
    public func due(includeUndeleted: Bool) async throws -> [TwilioRecordingImport] {
        try await database.read { db in
            var filter = Column("state") == TwilioRecordingImport.State.pending.rawValue
            if includeUndeleted {
                filter =
                    filter
                    || (Column("state") == TwilioRecordingImport.State.imported.rawValue
                        && Column("deleted_at_twilio") == nil)
            }
            return try TwilioRecordingImport.filter(filter).order(Column("created_at"), Column("id")).fetchAll(db)
        }
    }

    public func `import`(id: String) async throws -> TwilioRecordingImport? {
        try await database.read { db in try TwilioRecordingImport.fetchOne(db, key: id) }
    }

    /// An attempt failed: counted, with the reason; `permanent` gives up on it.
    public func failed(id: String, reason: String, permanent: Bool) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            guard var entry = try TwilioRecordingImport.fetchOne(db, key: id) else { return }
            entry.attempts += 1
            entry.lastError = String(reason.prefix(500))
            if permanent { entry.state = .failed }
            entry.updatedAt = now
            try entry.update(db)
        }
    }

    /// The recording is stored: its `recordings` row (to the outbox too), the import marked done and
    /// an audit entry, all in one transaction.
    public func imported(id: String, recording: Recording) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            guard var entry = try TwilioRecordingImport.fetchOne(db, key: id) else { return }
            try recording.insert(db)
            try Outbox.enqueueUpsert(.recording(recording), at: now, in: db)
            entry.state = .imported
            entry.recordingID = recording.id
            entry.attempts += 1
            entry.lastError = nil
            entry.updatedAt = now
            try entry.update(db)
            try AuditLog.record(
                actor: "agent", action: "recording.import", entity: Recording.databaseTableName,
                entityID: recording.id, details: ["source": "twilio", "twilio_recording_sid": id], at: now, in: db)
        }
    }

    /// The copy at Twilio is deleted.
    public func deletedAtTwilio(id: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            guard var entry = try TwilioRecordingImport.fetchOne(db, key: id) else { return }
            entry.deletedAtTwilio = now
            entry.updatedAt = now
            try entry.update(db)
            try AuditLog.record(
                actor: "agent", action: "recording.delete_at_twilio", entity: TwilioRecordingImport.databaseTableName,
                entityID: id, at: now, in: db)
        }
    }
}
