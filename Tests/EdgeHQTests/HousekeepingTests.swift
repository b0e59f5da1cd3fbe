import EdgeHQ
import Foundation
import Logging
import PostgresNIO
import Synchronization
import TestSupport
import Testing

/// Headquarters' retention on the real PostgreSQL, with a clock the test moves: what is past its time
/// goes, what is not stays, and a second replica skips the round while one holds the lock.
@Suite("Headquarters' housekeeping")
struct HousekeepingTests {
    static let day: Int64 = 86_400_000
    /// 2026-12-06 00:00 UTC.
    static let start: Int64 = 1_796_515_200_000

    @Test("old recordings, nonces, batch answers and abandoned uploads go; recent ones stay; the file is deleted")
    func retention() async throws {
        let clock = Mutex(Self.start)
        let temporary = TemporaryFolder(prefix: "hq-housekeeping")
        let folder = temporary.file("store")  // made by headquarters when it stores the first file
        let now: @Sendable () -> Int64 = { clock.withLock { $0 } }
        try await HQHarness.with(now: now, recordingStorage: .folder(folder)) { hq in
            let sql = hq.database.client
            let hash = String(repeating: "a", count: 64)
            try await sql.query("INSERT INTO sites (id, name) VALUES ('s1', 'Trattoria')")
            try await sql.query(
                "INSERT INTO devices (id, site_id, public_key, name) VALUES ('d1', 's1', \(Data(repeating: 1, count: 32)), 'box')"
            )
            // Two recordings stored: one from 100 days before the clock's start, one from 10 days before.
            for (id, age) in [("old", Int64(100)), ("new", Int64(10))] {
                let row = #"{"id":"\#(id)","started_at":\#(Self.start - age * Self.day)}"#
                try await sql.query(
                    """
                    INSERT INTO recordings (site_id, id, version, changed_at, origin, row)
                    VALUES ('s1', \(id), 1, 0, 'box', \(row)::jsonb)
                    """)
                try await sql.query(
                    """
                    INSERT INTO recording_uploads (site_id, recording_id, size_bytes, sha256, received_bytes, stored_at, location)
                    VALUES ('s1', \(id), 3, \(hash), 3, now(), \(id))
                    """)
                let file = (folder as NSString).appendingPathComponent(RecordingUploads.key(site: "s1", recording: id))
                try FileManager.default.createDirectory(
                    atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data([1, 2, 3]).write(to: URL(fileURLWithPath: file))
            }
            // Uploads never finished, each with a staged part: one opened 8 days ago and idle since, one
            // opened 8 days ago whose last part came yesterday (slow, still arriving), one opened today.
            for (id, age, idle) in [("abandoned", 8.0, 8.0), ("slow", 8.0, 1.0), ("fresh", 0.0, 0.0)] {
                let opened = Double(Self.start) / 1000 - age * 86_400
                let lastPart = Double(Self.start) / 1000 - idle * 86_400
                try await sql.query(
                    """
                    INSERT INTO recording_uploads (site_id, recording_id, size_bytes, sha256, opened_at, last_part_at)
                    VALUES ('s1', \(id), 10, \(hash), to_timestamp(\(opened)), to_timestamp(\(lastPart)))
                    """)
                try await sql.query(
                    """
                    INSERT INTO recording_upload_parts (site_id, recording_id, offset_bytes, data)
                    VALUES ('s1', \(id), 0, \(Data([9])))
                    """)
            }
            // Nonces and batch answers, old and recent by the clock.
            for (name, seconds) in [("old", Double(Self.start) / 1000 - 3_600), ("recent", Double(Self.start) / 1000)] {
                try await sql.query(
                    "INSERT INTO request_nonces (device_id, nonce, seen_at) VALUES ('d1', \(name), to_timestamp(\(seconds)))"
                )
            }
            for (key, days) in [("old", 31.0), ("recent", 29.0)] {
                let received = Double(Self.start) / 1000 - days * 86_400
                try await sql.query(
                    """
                    INSERT INTO upload_batches (device_id, idempotency_key, body_sha256, response, received_at)
                    VALUES ('d1', \(key), \(hash), '{}'::jsonb, to_timestamp(\(received)))
                    """)
            }

            let report = try await hq.app.housekeeping.run()
            #expect(report.ran)
            #expect(report.recordingsExpired == 1)
            #expect(report.noncesPruned == 1)
            #expect(report.batchAnswersPruned == 1)
            #expect(report.abandonedUploads == 1)
            #expect(
                try await Self.strings(sql, "SELECT recording_id FROM recording_uploads ORDER BY 1") == [
                    "fresh", "new", "old", "slow",
                ])
            #expect(
                try await Self.strings(sql, "SELECT recording_id FROM recording_upload_parts ORDER BY 1") == [
                    "fresh", "slow",
                ])
            #expect(try await Self.strings(sql, "SELECT nonce FROM request_nonces") == ["recent"])
            #expect(try await Self.strings(sql, "SELECT idempotency_key FROM upload_batches") == ["recent"])

            // The expired recording's file goes with the erased ones'; the recent one's stays.
            #expect(try await hq.app.recordings.deleteErased() == 1)
            let stored = { (id: String) in
                FileManager.default.fileExists(
                    atPath: (folder as NSString).appendingPathComponent(RecordingUploads.key(site: "s1", recording: id))
                )
            }
            #expect(!stored("old"))
            #expect(stored("new"))

            // Nothing more to do now; 81 days later the other recording's time has come.
            #expect(try await hq.app.housekeeping.run() == HQHousekeeping.Report(ran: true))
            clock.withLock { $0 += 81 * Self.day }
            #expect(try await hq.app.housekeeping.run().recordingsExpired == 1)
        }
    }

    @Test("a site's own retention: its recordings go sooner; other sites keep the default; bad settings refused")
    func perSiteRetention() async throws {
        let now: @Sendable () -> Int64 = { Self.start }
        try await HQHarness.with(now: now) { hq in
            let sql = hq.database.client
            let hash = String(repeating: "b", count: 64)
            let short = try await hq.directory.addSite(name: "Bistro").id
            let usual = try await hq.directory.addSite(name: "Taberna").id
            try await hq.directory.setRecordingRetention(site: short, days: 7)
            for site in [short, usual] {
                let row = #"{"id":"r10","started_at":\#(Self.start - 10 * Self.day)}"#
                try await sql.query(
                    """
                    INSERT INTO recordings (site_id, id, version, changed_at, origin, row)
                    VALUES (\(site), 'r10', 1, 0, 'box', \(row)::jsonb)
                    """)
                try await sql.query(
                    """
                    INSERT INTO recording_uploads (site_id, recording_id, size_bytes, sha256, received_bytes, stored_at)
                    VALUES (\(site), 'r10', 3, \(hash), 3, now())
                    """)
            }
            #expect(try await hq.app.housekeeping.run().recordingsExpired == 1)
            #expect(
                try await Self.strings(sql, "SELECT site_id FROM recording_uploads WHERE erased_at IS NOT NULL") == [
                    short
                ])
            // Back to the default (90 days): nothing more expires.
            try await hq.directory.setRecordingRetention(site: short, days: nil)
            #expect(try await hq.app.housekeeping.run().recordingsExpired == 0)

            await #expect(throws: SiteDirectory.DirectoryError.self) {
                try await hq.directory.setRecordingRetention(site: "nowhere", days: 30)
            }
            await #expect(throws: SiteDirectory.DirectoryError.self) {
                try await hq.directory.setRecordingRetention(site: usual, days: 0)
            }
        }
    }

    @Test("a second replica skips the round while another holds the lock")
    func oneReplicaAtATime() async throws {
        try await HQHarness.with { hq in
            try await hq.database.client.withConnection { connection in
                try await connection.query("SELECT pg_advisory_lock(\(HQHousekeeping.lockKey))", logger: hq.app.logger)
                #expect(try await hq.app.housekeeping.run() == HQHousekeeping.Report(ran: false))
                try await connection.query(
                    "SELECT pg_advisory_unlock(\(HQHousekeeping.lockKey))", logger: hq.app.logger)
            }
            #expect(try await hq.app.housekeeping.run().ran)
        }
    }

    static func strings(_ client: PostgresClient, _ sql: String) async throws -> [String] {
        var values: [String] = []
        for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(String.self) {
            values.append(value)
        }
        return values
    }
}
