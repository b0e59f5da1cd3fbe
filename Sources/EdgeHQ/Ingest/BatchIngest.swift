public import Foundation
public import Logging
import PostgresNIO
public import Sync

/// Applies a box's upload batch: the whole batch in one transaction, each change through the version
/// guard (`sync_apply`) or as an erasure (`sync_erase`), one result per change in the batch's order,
/// and the answer stored under the batch's idempotency key so that the same batch delivered again,
/// however late, gets the same answer and changes nothing.
public struct BatchIngest: Sendable {
    let database: HQDatabase
    let logger: Logger
    let maximumRows: Int
    /// Headquarters' clock (Unix ms).
    let now: @Sendable () -> Int64
    /// How far ahead of headquarters' clock a change may say it was made (a box's clock may be off).
    static let allowedFuture: Int64 = 24 * 3_600_000

    public init(
        database: HQDatabase, logger: Logger, maximumRows: Int,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.database = database
        self.logger = logger
        self.maximumRows = maximumRows
        self.now = now
    }

    /// Checks the batch as a whole before anything is applied: a batch that fails here changes nothing.
    func validate(_ batch: UploadBatch, site: String) throws {
        guard batch.siteID == site else {
            throw HQError.forbidden("site_mismatch", "the batch is for another site than the box that signed it")
        }
        guard !batch.idempotencyKey.isEmpty, batch.idempotencyKey.count <= 100 else {
            throw HQError.badRequest("idempotency_key must be 1 to 100 characters")
        }
        guard !batch.changes.isEmpty else { throw HQError.badRequest("the batch has no changes") }
        guard batch.changes.count <= maximumRows else {
            throw HQError(
                .contentTooLarge, code: "batch_too_large",
                message: "a batch holds at most \(maximumRows) changes, this one \(batch.changes.count)")
        }
        let latest = now() + Self.allowedFuture
        if let future = batch.changes.first(where: { $0.changedAt > latest }) {
            throw HQError(
                .unprocessableContent, code: "version_from_the_future",
                message:
                    "\(future.table.rawValue) \(future.rowID) says it changed more than a day ahead of headquarters' clock; check the box's clock"
            )
        }
    }

    /// Applies `batch` for `device`; `bodySHA256` identifies the request body, so the same key with
    /// another body is refused (409).
    ///
    /// - Parameter json: the batch's JSON as received (decoded into `batch` already, so known to be
    ///   well formed); PostgreSQL reads the changes from it directly.
    public func ingest(_ batch: UploadBatch, json: String, bodySHA256: String, device: SiteDirectory.Device)
        async throws -> UploadResult
    {
        try validate(batch, site: device.siteID)
        let site = device.siteID
        return try await database.transaction { connection in
            // Claim the key: a concurrent delivery of the same batch waits here for this one to finish.
            var claimed = false
            for try await _ in try await connection.query(
                """
                INSERT INTO upload_batches (device_id, idempotency_key, body_sha256, response)
                VALUES (\(device.id), \(batch.idempotencyKey), \(bodySHA256), '{}'::jsonb)
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger
            ).decode(Int.self) {
                claimed = true
            }
            if !claimed {
                return try await stored(batch, bodySHA256: bodySHA256, device: device, connection: connection)
            }
            let rows = try await apply(batch.changes, json: json, site: site, connection: connection)
            let result = UploadResult(idempotencyKey: batch.idempotencyKey, rows: rows)
            let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
            try await connection.query(
                """
                UPDATE upload_batches SET response = \(json)::jsonb
                WHERE device_id = \(device.id) AND idempotency_key = \(batch.idempotencyKey)
                """, logger: logger)
            return result
        }
    }

    private func stored(
        _ batch: UploadBatch, bodySHA256: String, device: SiteDirectory.Device, connection: HQConnection
    ) async throws -> UploadResult {
        for try await (hash, response) in try await connection.query(
            """
            SELECT body_sha256, response::text FROM upload_batches
            WHERE device_id = \(device.id) AND idempotency_key = \(batch.idempotencyKey)
            """, logger: logger
        ).decode((String, String).self) {
            guard hash == bodySHA256 else {
                throw HQError(
                    .conflict, code: "idempotency_key_reused",
                    message: "this idempotency key was used for another batch")
            }
            return try JSONDecoder().decode(UploadResult.self, from: Data(response.utf8))
        }
        throw HQError(.conflict, code: "idempotency_key_reused", message: "this idempotency key is being used")
    }

    /// Applies the batch in one call of `sync_apply_batch` (one round trip); changes to headquarters'
    /// own tables come back rejected.
    private func apply(_ changes: [SyncChange], json: String, site: String, connection: HQConnection)
        async throws -> [UploadResult.Row]
    {
        var rows = [UploadResult.Row?](repeating: nil, count: changes.count)
        for try await (ordinal, outcome, current) in try await connection.query(
            """
            SELECT ordinal, outcome, current_version FROM sync_apply_batch(\(site), (\(json)::jsonb) -> 'changes')
            """, logger: logger
        ).decode((Int64, String, Int64).self) {
            let index = Int(ordinal) - 1
            guard changes.indices.contains(index) else { continue }
            let change = changes[index]
            switch outcome {
            case "applied":
                rows[index] = .init(table: change.table, rowID: change.rowID, version: current, outcome: .applied)
            case "superseded":
                rows[index] = .init(table: change.table, rowID: change.rowID, version: current, outcome: .superseded)
            default:
                rows[index] = .init(
                    table: change.table, rowID: change.rowID, version: change.version, outcome: .rejected,
                    message: "headquarters owns \(change.table.rawValue); boxes do not upload it")
            }
        }
        let answered = rows.compactMap { $0 }
        guard answered.count == changes.count else {
            throw HQError(.internalServerError, code: "apply_failed", message: "the batch was not applied whole")
        }
        return answered
    }
}
