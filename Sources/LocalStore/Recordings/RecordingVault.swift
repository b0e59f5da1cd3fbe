import Foundation
import GRDB
public import Sync

/// The `recordings` rows: what is recorded, in which file, with its sealed key, and how each ended.
/// Every change goes to the outbox (headquarters keeps the metadata); erasures and decryptions are in
/// the audit log.
public struct RecordingVault: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// A recording has started: its row in state `recording`.
    public func begin(_ recording: Recording) async throws {
        try await database.write { db in
            try recording.insert(db)
        }
    }

    /// A recording has ended: complete with its final tag, or partial.
    public func finish(
        id: String, complete: Bool, durationMilliseconds: Int, sizeBytes: Int, ciphertextSHA256: String
    ) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            guard var recording = try Recording.fetchOne(db, key: id) else { return }
            recording.state = complete ? .complete : .partial
            recording.endedAt = now
            recording.durationMilliseconds = durationMilliseconds
            recording.sizeBytes = sizeBytes
            recording.ciphertextSHA256 = ciphertextSHA256
            recording.version += 1
            try recording.update(db)
            try Outbox.enqueueUpsert(.recording(recording), at: now, in: db)
        }
    }

    /// Every recording, newest first.
    public func all() async throws -> [Recording] {
        try await database.read { db in try Recording.order(Column("started_at").desc).fetchAll(db) }
    }

    public func recording(id: String) async throws -> Recording? {
        try await database.read { db in try Recording.fetchOne(db, key: id) }
    }

    /// Recordings a crash left open: closed as partial, with the size and hash of what reached the
    /// disk (everything up to the last complete chunk decrypts). `measure` reads a file's size and
    /// SHA-256 (nil when it is gone). Returns how many.
    public func closeInterrupted(measure: @Sendable (Recording) -> (size: Int, sha256: String)?) async throws -> Int {
        let open = try await database.read { db in
            try Recording.filter(Column("state") == Recording.State.recording.rawValue).fetchAll(db)
        }
        let now = database.clock.nowMilliseconds()
        for var recording in open {
            let measured = measure(recording)
            recording.state = .partial
            recording.endedAt = recording.endedAt ?? now
            recording.sizeBytes = measured?.size ?? 0
            recording.ciphertextSHA256 = measured?.sha256
            recording.version += 1
            try await database.write { [recording] db in
                try recording.update(db)
                try Outbox.enqueueUpsert(.recording(recording), at: now, in: db)
                try AuditLog.record(
                    actor: "agent", action: "recording.recover", entity: Recording.databaseTableName,
                    entityID: recording.id, details: ["state": "partial"], at: now, in: db)
            }
        }
        return open.count
    }

    /// Records that a recording was decrypted or exported, and by whom.
    public func recordAccess(id: String, action: String, actor: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try AuditLog.record(
                actor: actor, action: action, entity: Recording.databaseTableName, entityID: id, at: now, in: db)
        }
    }

    /// Crypto-shredding: the sealed key is wiped from the row (the file is the caller's to delete
    /// first), the row says deleted, and the audit log says why.
    public func shred(id: String, reason: String, actor: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            guard var recording = try Recording.fetchOne(db, key: id), recording.state != .deleted else { return }
            recording.state = .deleted
            recording.sealedKey = Data()
            recording.version += 1
            try recording.update(db)
            try Outbox.enqueueUpsert(.recording(recording), at: now, in: db)
            try AuditLog.record(
                actor: actor, action: "recording.delete", entity: Recording.databaseTableName, entityID: id,
                details: ["reason": reason], at: now, in: db)
        }
    }

    // MARK: Uploads to headquarters

    /// The recordings a box still has to upload: closed (complete or partial, sealed with a hash and
    /// a size) and not yet stored by headquarters. One condition for the list and the backlog gauge,
    /// so the gauge never counts a recording the uploader would not send.
    static let awaitingUploadCondition = """
        state IN ('complete', 'partial') AND ciphertext_sha256 IS NOT NULL AND size_bytes IS NOT NULL
        AND id NOT IN (SELECT recording_id FROM recording_uploads)
        """

    /// Closed recordings (complete or partial) whose file headquarters has not stored yet, oldest first.
    public func awaitingUpload() async throws -> [Recording] {
        try await database.read { db in
            try Recording.fetchAll(
                db,
                sql: """
                    SELECT * FROM recordings WHERE \(Self.awaitingUploadCondition)
                    ORDER BY started_at, id
                    """)
        }
    }

    /// How many recordings wait for upload, and when the oldest of them started.
    public func uploadBacklog() async throws -> (count: Int, oldestStartedAt: Int64?) {
        try await database.read { db in try Self.uploadBacklog(in: db) }
    }

    static func uploadBacklog(in db: Database) throws -> (count: Int, oldestStartedAt: Int64?) {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT count(*) AS n, min(started_at) AS oldest FROM recordings WHERE \(awaitingUploadCondition)
                """)
        return (row?["n"] ?? 0, row?["oldest"])
    }

    /// Headquarters has verified and stored recording `id` (with `sha256`); audited.
    public func markUploaded(id: String, sha256: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO recording_uploads (recording_id, sha256, uploaded_at) VALUES (?, ?, ?)",
                arguments: [id, sha256, now])
            try AuditLog.record(
                actor: "sync", action: "recording.upload", entity: Recording.databaseTableName, entityID: id, at: now,
                in: db)
        }
    }

    /// Uploaded recordings whose file is still on the box.
    public func uploadedWithFile() async throws -> [Recording] {
        try await database.read { db in
            try Recording.fetchAll(
                db,
                sql: """
                    SELECT recordings.* FROM recordings JOIN recording_uploads ON recording_id = recordings.id
                    WHERE file_deleted_at IS NULL AND state != 'deleted'
                    """)
        }
    }

    /// The box's copy of an uploaded recording was deleted (headquarters keeps it).
    public func markFileDeleted(id: String) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try db.execute(
                sql: "UPDATE recording_uploads SET file_deleted_at = ? WHERE recording_id = ?", arguments: [now, id])
        }
    }

    /// When recording `id`'s file was deleted from the box after its upload, if it was.
    public func fileDeletedAfterUpload(id: String) async throws -> Int64? {
        try await database.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT file_deleted_at FROM recording_uploads WHERE recording_id = ?", arguments: [id])
        }
    }

    /// Recordings started before `cutoff` (Unix ms) and not yet deleted.
    public func olderThan(_ cutoff: Int64) async throws -> [Recording] {
        try await database.read { db in
            try Recording.filter(Column("started_at") < cutoff && Column("state") != Recording.State.deleted.rawValue)
                .fetchAll(db)
        }
    }
}
