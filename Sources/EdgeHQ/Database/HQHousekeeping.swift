import Foundation
public import Logging
import PostgresNIO
import Sync

/// Headquarters' own retention, run by one replica at a time (a PostgreSQL advisory lock; a replica
/// that does not get it skips the round):
/// - recordings older than their site's retention (`sites.recording_retention_days`, else
///   ``Settings/recordingRetentionDays``; by the call's start, as the box keeps them) are marked for deletion like an erased one, so their stored file goes in the same pass;
/// - replay nonces older than twice the signature's freshness window;
/// - the answers kept for upload batches' idempotency keys after ``Settings/batchAnswerDays``, longer
///   than a box stays offline and retries the same batch;
/// - recording uploads that have not advanced for ``Settings/abandonedUploadDays`` and never
///   finished, with their staged parts (one still arriving, however slowly, stays).
///
/// Every cutoff comes from the app's clock, so a test moves time instead of waiting for it.
public struct HQHousekeeping: Sendable {
    public struct Settings: Sendable, Equatable {
        /// `EDGE_HQ_RECORDING_RETENTION_DAYS`: the box's own default.
        public var recordingRetentionDays = 90
        public var batchAnswerDays = 30
        public var abandonedUploadDays = 7

        public init() {}
    }

    /// What one round removed; `ran` is false when another replica held the lock.
    public struct Report: Sendable, Equatable {
        public var ran = false
        public var recordingsExpired = 0
        public var noncesPruned = 0
        public var batchAnswersPruned = 0
        public var abandonedUploads = 0

        public init(
            ran: Bool = false, recordingsExpired: Int = 0, noncesPruned: Int = 0, batchAnswersPruned: Int = 0,
            abandonedUploads: Int = 0
        ) {
            self.ran = ran
            self.recordingsExpired = recordingsExpired
            self.noncesPruned = noncesPruned
            self.batchAnswersPruned = batchAnswersPruned
            self.abandonedUploads = abandonedUploads
        }
    }

    /// An arbitrary constant, not the migrations' lock: the lock one housekeeping round holds.
    public static let lockKey: Int64 = 0x6564_6765_6871_6b70

    let database: HQDatabase
    let settings: Settings
    /// Unix milliseconds.
    let now: @Sendable () -> Int64
    let logger: Logger

    public init(database: HQDatabase, settings: Settings, now: @escaping @Sendable () -> Int64, logger: Logger) {
        self.database = database
        self.settings = settings
        self.now = now
        self.logger = logger
    }

    /// One round, in one transaction, unless another replica is in the middle of one. The lock is the
    /// transaction's: it goes with the commit or the rollback, even when the connection is lost.
    public func run() async throws -> Report {
        try await database.transaction { connection in
            var locked = false
            for try await value in try await connection.query(
                "SELECT pg_try_advisory_xact_lock(\(Self.lockKey))", logger: logger
            ).decode(Bool.self) {
                locked = value
            }
            guard locked else {
                logger.debug("housekeeping skipped: another replica is doing it")
                return Report()
            }
            return try await prune(on: connection)
        }
    }

    private func prune(on connection: HQConnection) async throws -> Report {
        let nowMilliseconds = now()
        let day: Int64 = 86_400_000
        var report = Report(ran: true)
        let defaultDays = settings.recordingRetentionDays
        let nowSeconds = Double(nowMilliseconds) / 1000
        report.recordingsExpired = try await count(
            connection,
            """
            WITH expired AS (
                UPDATE recording_uploads AS u SET erased_at = to_timestamp(\(nowSeconds)), received_bytes = 0
                FROM recordings AS r, sites AS s
                WHERE r.site_id = u.site_id AND r.id = u.recording_id AND s.id = u.site_id AND u.erased_at IS NULL
                    AND (r.row ->> 'started_at')::bigint
                        < \(nowMilliseconds) - coalesce(s.recording_retention_days, \(defaultDays))::bigint * \(day)
                RETURNING u.site_id, u.recording_id
            ), parts AS (
                DELETE FROM recording_upload_parts AS p USING expired AS e
                WHERE p.site_id = e.site_id AND p.recording_id = e.recording_id
            )
            SELECT count(*)::int FROM expired
            """)
        let nonceCutoff = nowSeconds - Double(SignedRequest.freshness) / 1000 * 2
        report.noncesPruned = try await count(
            connection,
            """
            WITH pruned AS (DELETE FROM request_nonces WHERE seen_at < to_timestamp(\(nonceCutoff)) RETURNING 1)
            SELECT count(*)::int FROM pruned
            """)
        let batchCutoff = nowSeconds - Double(settings.batchAnswerDays) * 86_400
        report.batchAnswersPruned = try await count(
            connection,
            """
            WITH pruned AS (DELETE FROM upload_batches WHERE received_at < to_timestamp(\(batchCutoff)) RETURNING 1)
            SELECT count(*)::int FROM pruned
            """)
        let uploadCutoff = nowSeconds - Double(settings.abandonedUploadDays) * 86_400
        report.abandonedUploads = try await count(
            connection,
            """
            WITH pruned AS (
                DELETE FROM recording_uploads
                WHERE stored_at IS NULL AND erased_at IS NULL AND deleted_at IS NULL
                    AND coalesce(last_part_at, opened_at) < to_timestamp(\(uploadCutoff))
                RETURNING 1
            )
            SELECT count(*)::int FROM pruned
            """)
        if report != Report(ran: true) {
            logger.info(
                "housekeeping",
                metadata: [
                    "recordings.expired": "\(report.recordingsExpired)", "nonces.pruned": "\(report.noncesPruned)",
                    "batches.pruned": "\(report.batchAnswersPruned)",
                    "uploads.abandoned": "\(report.abandonedUploads)",
                ])
        }
        return report
    }

    private func count(_ connection: HQConnection, _ query: PostgresQuery) async throws -> Int {
        var result = 0
        for try await value in try await connection.query(query, logger: logger).decode(Int.self) { result = value }
        return result
    }
}
