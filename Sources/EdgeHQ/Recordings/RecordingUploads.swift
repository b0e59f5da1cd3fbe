import Crypto
import Foundation
public import Logging
public import NIOCore
import PostgresNIO
public import Sync

/// Recording files arriving from boxes (the protocol is in ``RecordingUploadRequest``): each part is
/// staged in `recording_upload_parts` in the transaction that advances `received_bytes`, so an upload
/// resumes on any replica after any interruption; the whole file is hashed against the declared
/// SHA-256 before it goes to the ``RecordingStore``, and its staged parts are dropped once stored.
public struct RecordingUploads: Sendable {
    let database: HQDatabase
    let store: any RecordingStore
    let logger: Logger
    /// The largest recording accepted (a four-hour call is about 64 MB).
    public var maximumFileBytes = 512 * 1_048_576

    public init(database: HQDatabase, store: any RecordingStore, logger: Logger) {
        self.database = database
        self.store = store
        self.logger = logger
    }

    /// Where a site's recording is kept in the store.
    public static func key(site: String, recording: String) -> String {
        "sites/\(site)/recordings/\(recording).sealed"
    }

    /// Recording ids are the box's UUIDs: letters, digits, `-` and `_`, at most 64.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    private struct Upload {
        var sizeBytes: Int
        var sha256: String
        var receivedBytes: Int
        var stored: Bool
        var erased: Bool

        var status: RecordingUploadStatus {
            RecordingUploadStatus(receivedBytes: receivedBytes, sizeBytes: sizeBytes, stored: stored)
        }
    }

    // Every result below is read to its end before the next statement: leaving a row stream early
    // inside a transaction can stall the connection's next statement (and so the request).

    private func lock(site: String, id: String, on connection: HQConnection) async throws -> Upload? {
        var upload: Upload?
        for try await (size, sha, received, stored, erased) in try await connection.query(
            """
            SELECT size_bytes, sha256, received_bytes, stored_at IS NOT NULL, erased_at IS NOT NULL
            FROM recording_uploads WHERE site_id = \(site) AND recording_id = \(id) FOR UPDATE
            """, logger: logger
        ).decode((Int, String, Int, Bool, Bool).self) {
            upload = Upload(sizeBytes: size, sha256: sha, receivedBytes: received, stored: stored, erased: erased)
        }
        return upload
    }

    private static let erased = HQError(
        .gone, code: "recording_erased", message: "this recording was erased by a privacy request; it is not taken")

    /// Opens the upload of recording `id` of `site`, or finds the one already open: its status.
    public func open(site: String, id: String, _ request: RecordingUploadRequest) async throws -> RecordingUploadStatus
    {
        guard request.sha256.count == 64, request.sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw HQError.badRequest("sha256 must be 64 lowercase hex digits")
        }
        guard (0...maximumFileBytes).contains(request.sizeBytes) else {
            throw HQError(
                .contentTooLarge, code: "recording_too_large",
                message: "size_bytes must be from 0 to \(maximumFileBytes) bytes")
        }
        return try await database.transaction { connection in
            var erased = false
            for try await _ in try await connection.query(
                """
                SELECT 1 FROM erasures WHERE site_id = \(site) AND table_name = 'recordings' AND row_id = \(id)
                """, logger: logger
            ) {
                erased = true
            }
            guard !erased else { throw Self.erased }
            // The recording's row, when it has arrived, must describe the same file.
            var rowHash: String?
            for try await hash in try await connection.query(
                "SELECT row ->> 'ciphertext_sha256' FROM recordings WHERE site_id = \(site) AND id = \(id)",
                logger: logger
            ).decode(String?.self) {
                rowHash = hash
            }
            if let rowHash, rowHash != request.sha256 {
                throw HQError(
                    .conflict, code: "hash_mismatch",
                    message: "headquarters' row for this recording has another ciphertext_sha256; sync the rows first")
            }
            try await connection.query(
                """
                INSERT INTO recording_uploads (site_id, recording_id, size_bytes, sha256)
                VALUES (\(site), \(id), \(request.sizeBytes), \(request.sha256)) ON CONFLICT DO NOTHING
                """, logger: logger)
            guard var upload = try await lock(site: site, id: id, on: connection) else {
                throw HQError(.internalServerError, code: "internal", message: "the upload row vanished")
            }
            guard !upload.erased else { throw Self.erased }
            if upload.sizeBytes != request.sizeBytes || upload.sha256 != request.sha256 {
                guard !upload.stored else {
                    throw HQError(
                        .conflict, code: "already_stored",
                        message: "another file is already stored for this recording (another size or hash)")
                }
                // The box's file changed before it was stored (a partial recording closed again): start over.
                try await connection.query(
                    "DELETE FROM recording_upload_parts WHERE site_id = \(site) AND recording_id = \(id)",
                    logger: logger)
                try await connection.query(
                    """
                    UPDATE recording_uploads SET size_bytes = \(request.sizeBytes), sha256 = \(request.sha256),
                        received_bytes = 0 WHERE site_id = \(site) AND recording_id = \(id)
                    """, logger: logger)
                upload = Upload(
                    sizeBytes: request.sizeBytes, sha256: request.sha256, receivedBytes: 0, stored: false, erased: false
                )
            }
            return upload.status
        }
    }

    /// Stages the part of recording `id` that starts at `offset`.
    public func append(site: String, id: String, offset: Int, part: ByteBuffer) async throws -> RecordingUploadStatus {
        try await database.transaction { connection in
            guard let upload = try await lock(site: site, id: id, on: connection) else {
                throw HQError(
                    .notFound, code: "no_upload", message: "no upload is open for this recording; POST it first")
            }
            guard !upload.erased else { throw Self.erased }
            guard !upload.stored, offset == upload.receivedBytes else {
                throw HQError(
                    .conflict, code: "offset_mismatch",
                    message: "headquarters has \(upload.receivedBytes) bytes of this recording, not \(offset); "
                        + "ask for the status and resume from there")
            }
            guard part.readableBytes > 0, offset + part.readableBytes <= upload.sizeBytes else {
                throw HQError.badRequest(
                    "a part must hold 1 byte or more and end within the declared \(upload.sizeBytes) bytes")
            }
            try await connection.query(
                """
                INSERT INTO recording_upload_parts (site_id, recording_id, offset_bytes, data)
                VALUES (\(site), \(id), \(offset), \(part))
                """, logger: logger)
            let received = offset + part.readableBytes
            try await connection.query(
                """
                UPDATE recording_uploads SET received_bytes = \(received), last_part_at = now()
                WHERE site_id = \(site) AND recording_id = \(id)
                """, logger: logger)
            return RecordingUploadStatus(receivedBytes: received, sizeBytes: upload.sizeBytes, stored: false)
        }
    }

    /// Why a completion was refused after the transaction that recorded it committed.
    private enum Completion {
        case stored(RecordingUploadStatus)
        case hashMismatch(String)
    }

    /// Verifies the whole file against its declared hash and stores it. Holding the upload's row lock
    /// throughout, so two replicas never store the same recording at once. A file whose hash does
    /// not match is dropped (422 `hash_mismatch`) and its upload starts over.
    public func complete(site: String, id: String) async throws -> RecordingUploadStatus {
        let outcome = try await database.transaction { connection -> Completion in
            guard let upload = try await lock(site: site, id: id, on: connection) else {
                throw HQError(
                    .notFound, code: "no_upload", message: "no upload is open for this recording; POST it first")
            }
            guard !upload.erased else { throw Self.erased }
            if upload.stored { return .stored(upload.status) }
            guard upload.receivedBytes == upload.sizeBytes else {
                throw HQError(
                    .conflict, code: "incomplete",
                    message:
                        "headquarters has \(upload.receivedBytes) of \(upload.sizeBytes) bytes; send the rest first")
            }
            let parts = self.parts(site: site, id: id)
            var hasher = SHA256()
            var total = 0
            for try await part in parts {
                hasher.update(data: Data(part.readableBytesView))
                total += part.readableBytes
            }
            let hash = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            guard hash == upload.sha256, total == upload.sizeBytes else {
                try await connection.query(
                    "DELETE FROM recording_upload_parts WHERE site_id = \(site) AND recording_id = \(id)",
                    logger: logger)
                try await connection.query(
                    "UPDATE recording_uploads SET received_bytes = 0 WHERE site_id = \(site) AND recording_id = \(id)",
                    logger: logger)
                return .hashMismatch(hash)
            }
            let location: String
            do {
                location = try await store.put(
                    key: Self.key(site: site, recording: id), size: upload.sizeBytes, sha256: upload.sha256,
                    parts: parts)
            } catch {
                logger.error(
                    "a recording could not be stored; the box will send its completion again",
                    metadata: ["site.id": .string(site), "recording.id": .string(id), "error": "\(error)"])
                throw HQError(
                    .badGateway, code: "storage_failed", message: "the recording store refused the file: \(error)")
            }
            try await connection.query(
                """
                UPDATE recording_uploads SET stored_at = now(), location = \(location)
                WHERE site_id = \(site) AND recording_id = \(id)
                """, logger: logger)
            try await connection.query(
                "DELETE FROM recording_upload_parts WHERE site_id = \(site) AND recording_id = \(id)", logger: logger)
            return .stored(
                RecordingUploadStatus(receivedBytes: upload.sizeBytes, sizeBytes: upload.sizeBytes, stored: true))
        }
        switch outcome {
        case .stored(let status):
            return status
        case .hashMismatch:
            throw HQError(
                .unprocessableContent, code: "hash_mismatch",
                message: "the bytes received do not have the declared SHA-256; the upload starts over")
        }
    }

    /// The staged parts of an upload, one query per part (on the pool, outside any transaction).
    func parts(site: String, id: String) -> RecordingParts {
        let database = self.database
        let logger = self.logger
        return RecordingParts { offset in
            var part: (ByteBuffer, Int)?
            for try await (start, data) in try await database.query(
                """
                SELECT offset_bytes, data FROM recording_upload_parts
                WHERE site_id = \(site) AND recording_id = \(id) AND offset_bytes >= \(offset)
                ORDER BY offset_bytes LIMIT 1
                """, logger: logger
            ).decode((Int, ByteBuffer).self) {
                part = (data, start + data.readableBytes)
            }
            return part
        }
    }

    /// The status of an upload, or nil when none was opened (for tests and technicians).
    public func status(site: String, id: String) async throws -> RecordingUploadStatus? {
        var status: RecordingUploadStatus?
        for try await (size, received, stored) in try await database.query(
            """
            SELECT size_bytes, received_bytes, stored_at IS NOT NULL FROM recording_uploads
            WHERE site_id = \(site) AND recording_id = \(id)
            """, logger: logger
        ).decode((Int, Int, Bool).self) {
            status = RecordingUploadStatus(receivedBytes: received, sizeBytes: size, stored: stored)
        }
        return status
    }

    /// Deletes the stored files of erased recordings; returns how many. Run after every batch with an
    /// erasure and every minute, so a file outlives its erasure only while the store is unreachable.
    @discardableResult
    public func deleteErased() async throws -> Int {
        var pending: [(String, String)] = []
        for try await row in try await database.query(
            """
            SELECT site_id, recording_id FROM recording_uploads
            WHERE erased_at IS NOT NULL AND deleted_at IS NULL LIMIT 1000
            """, logger: logger
        ).decode((String, String).self) {
            pending.append(row)
        }
        var deleted = 0
        for (site, id) in pending {
            do {
                try await store.delete(key: Self.key(site: site, recording: id))
            } catch {
                logger.warning(
                    "an erased recording's file could not be deleted yet; trying again later",
                    metadata: ["recording.id": .string(id), "error": "\(error)"])
                continue
            }
            try await database.query(
                """
                UPDATE recording_uploads SET deleted_at = now(), stored_at = NULL, location = NULL
                WHERE site_id = \(site) AND recording_id = \(id)
                """, logger: logger)
            deleted += 1
        }
        return deleted
    }
}
