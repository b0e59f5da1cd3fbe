import Crypto
import EdgeHQ
import Foundation
import GRDB
import LocalStore
import Logging
import Metrics
import PostgresNIO
import Resilience
import StoreTestSupport
import Sync
import TestSupport
import Testing

@testable import SyncAgent

/// The box's outbox against a real headquarters: nothing lost or duplicated with headquarters down,
/// a batch answered but not marked sent, or a box clock an hour off.
@Suite("Box to headquarters: the outbox uploader", .serialized)
struct OutboxUploadTests {
    typealias Auth = EnrolmentAndAuthenticationTests

    /// A box database with `calls` calls, each with two turns, all in the outbox.
    static func boxDatabase(folder: String, calls: Int) async throws -> EdgeDatabase {
        let database = try EdgeDatabase(
            path: (folder as NSString).appendingPathComponent("edge.sqlite"), logger: Logger(label: "box"))
        try await addCalls(to: database, from: 0, count: calls)
        return database
    }

    /// Calls `first ..< first + count`, each with two turns, through the call log (so into the outbox).
    static func addCalls(to database: EdgeDatabase, from first: Int, count: Int) async throws {
        let log = CallLog(database: database)
        for index in first..<first + count {
            let call = try await log.inbound(
                callSid: "CA" + String(format: "%032d", index), from: "+1555\(String(format: "%07d", index))")
            for sequence in 1...2 {
                try await log.append(
                    ConversationTurn(
                        id: "\(call.id)-\(sequence)", callID: call.id, sequence: sequence, speaker: .caller,
                        text: "turn \(sequence)", startedAt: Int64(sequence)))
            }
        }
    }

    static func upstream() -> Upstream {
        Upstream(
            name: "headquarters",
            policy: UpstreamPolicy(
                requestTimeout: .seconds(30),
                retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5)),
                breaker: CircuitBreakerPolicy(failureThreshold: 1000)),
            logger: Logger(label: "box"), metricsFactory: NOOPMetricsHandler.instance)
    }

    /// The box's outbox uploader talking to headquarters through `client`, as the enrolled box `link`.
    static func uploader(
        _ box: EdgeDatabase, client: SyncClient, identity: DeviceIdentity, link: HeadquartersLink,
        maximumRows: Int? = nil
    ) -> OutboxUploader {
        var uploader = OutboxUploader(
            session: SyncSession(
                database: box, client: client, identity: identity, link: link, upstream: upstream(),
                logger: Auth.logger))
        if let maximumRows { uploader.maximumRows = maximumRows }
        return uploader
    }

    /// Every (table, id, version) the box holds that headquarters must have, against headquarters'.
    static func compare(box: EdgeDatabase, hq: HQHarness, site: String) async throws -> (
        box: Set<String>, hq: Set<String>
    ) {
        let boxRows = try await box.read { db in
            Set(
                try Row.fetchAll(db, sql: "SELECT 'calls' AS t, id, version FROM calls").map {
                    "\($0["t"] as String)/\($0["id"] as String)/\($0["version"] as Int64)"
                }
                    + (try String.fetchAll(db, sql: "SELECT id FROM conversation_turns").map {
                        "conversation_turns/\($0)/1"
                    }))
        }
        var hqRows = Set<String>()
        for table in ["calls", "conversation_turns"] {
            for try await (id, version) in try await hq.database.client.query(
                PostgresQuery(
                    unsafeSQL: "SELECT id, version FROM \(table) WHERE site_id = $1",
                    binds: {
                        var binds = PostgresBindings()
                        binds.append(site)
                        return binds
                    }())
            ).decode((String, Int64).self) {
                #expect(!hqRows.contains("\(table)/\(id)/\(version)"))
                hqRows.insert("\(table)/\(id)/\(version)")
            }
        }
        return (boxRows, hqRows)
    }

    @Test("headquarters down: nothing is marked sent; back: the backlog drains oldest first, row for row, once")
    func downThenBack() async throws {
        let folder = TemporaryFolder(prefix: "sync")
        let box = try await Self.boxDatabase(folder: folder.path, calls: 150)
        let backlog = try await box.read { db in try Outbox.backlog(in: db).count }
        #expect(backlog == 150 * 3)
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                // Down: a port nobody listens on.
                var downLink = link
                downLink.url = "http://127.0.0.1:1"
                let downClient = try SyncClient(baseURL: downLink.url, timeout: .seconds(2), logger: Auth.logger)
                var uploader = Self.uploader(
                    box, client: downClient, identity: identity, link: downLink, maximumRows: 100)
                await #expect(throws: (any Error).self) { try await uploader.drain() }
                await downClient.shutdown()
                let afterDown = try await box.read { db in try Outbox.backlog(in: db).count }
                #expect(afterDown == backlog)
                let attempts = try await box.read { db in try Int.fetchOne(db, sql: "SELECT max(attempts) FROM outbox")!
                }
                #expect(attempts == 1)

                // Back.
                let client = try SyncClient(baseURL: url, logger: Auth.logger)
                uploader = Self.uploader(box, client: client, identity: identity, link: link, maximumRows: 100)
                let report = try await uploader.drain()
                #expect(report.sent == backlog)
                #expect(report.batches == 5)
                let left = try await box.read { db in try Outbox.backlog(in: db).count }
                #expect(left == 0)
                let (boxRows, hqRows) = try await Self.compare(box: box, hq: hq, site: link.siteID)
                #expect(boxRows == hqRows)
                #expect(hqRows.count == 450)
                await client.shutdown()
            }
        }
        try box.close()
    }

    @Test(
        "a batch headquarters applied but the box never marked (killed before): resent with the same key, applied once")
    func answeredButNotMarked() async throws {
        let folder = TemporaryFolder(prefix: "sync")
        let box = try await Self.boxDatabase(folder: folder.path, calls: 20)
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let client = try SyncClient(baseURL: url, logger: Auth.logger)
                let uploader = Self.uploader(box, client: client, identity: identity, link: link)
                // The box sends its first batch and dies before writing down the answer.
                let first = try #require(try await uploader.nextBatch())
                _ = try await client.upload(json: first.batch.json, identity: identity, deviceID: link.deviceID)
                let batchesBefore = try await hq.count("upload_batches")
                // After the restart the same batch goes again, then the rest.
                let report = try await uploader.drain()
                #expect(report.sent == 60)
                #expect(
                    try await hq.count("upload_batches") == batchesBefore,
                    "the resent batch was answered from the store")
                let (boxRows, hqRows) = try await Self.compare(box: box, hq: hq, site: link.siteID)
                #expect(boxRows == hqRows)
                await client.shutdown()
            }
        }
        try box.close()
    }

    @Test("the box's clock an hour fast or slow: requests are re-signed with headquarters' time and go through")
    func clockOff() async throws {
        for offset in [Int64(3_600_000), -3_600_000] {
            let folder = TemporaryFolder(prefix: "sync")
            let box = try await Self.boxDatabase(folder: folder.path, calls: 5)
            try await HQHarness.with { hq in
                try await hq.serve { url in
                    let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                    let client = try SyncClient(baseURL: url, logger: Auth.logger) {
                        Int64(Date().timeIntervalSince1970 * 1000) + offset
                    }
                    let uploader = Self.uploader(box, client: client, identity: identity, link: link)
                    let report = try await uploader.drain()
                    #expect(report.sent == 15)
                    #expect(abs(client.serverNow() - Int64(Date().timeIntervalSince1970 * 1000)) < 5_000)
                    await client.shutdown()
                }
            }
            try box.close()
        }
    }

    @Test("a day's roll-up of calls reaches headquarters, and its newer version replaces it")
    func dailySummaries() async throws {
        let folder = TemporaryFolder(prefix: "sync")
        let box = try await Self.boxDatabase(folder: folder.path, calls: 3)
        let zone = TimeZone(identifier: "UTC")!
        let today = LocalDate(Date(), in: zone)
        try await CallSummaries(database: box).rollUp(date: today, timeZone: zone)
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let client = try SyncClient(baseURL: url, logger: Auth.logger)
                let uploader = Self.uploader(box, client: client, identity: identity, link: link)
                _ = try await uploader.drain()
                try await Self.addCalls(to: box, from: 3, count: 2)
                try await CallSummaries(database: box).rollUp(date: today, timeZone: zone)
                _ = try await uploader.drain()
                var stored: [String] = []
                for try await (version, calls) in try await hq.database.client.query(
                    "SELECT version, (row ->> 'calls')::int FROM daily_call_summaries WHERE site_id = \(link.siteID) AND id = \(today.description)"
                ).decode((Int64, Int).self) {
                    stored.append("v\(version): \(calls) calls")
                }
                #expect(stored == ["v2: 5 calls"])
                await client.shutdown()
            }
        }
        try box.close()
    }
}
