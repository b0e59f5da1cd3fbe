import AsyncHTTPClient
import AsyncHandoff
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LocalStore
import Logging
import Metrics
import PostgresNIO
import Resilience
import Sync
import SyncAgent
import Synchronization
import TestSupport
import Testing

@testable import EdgeHQ

/// No request of headquarters outlives its time limit, `/readyz` tells when the pool has no
/// connection to give, and a query on a connection PostgreSQL dropped is answered.
@Suite("Headquarters: request deadlines and readiness", .serialized)
struct RequestDeadlineTests {
    typealias Auth = EnrolmentAndAuthenticationTests

    /// The counts of handlers in flight as they change, and the counter that reports them.
    static func counted() -> (RequestsInFlight, AsyncStream<Int>) {
        let (counts, sink) = AsyncStream.makeStream(of: Int.self)
        return (RequestsInFlight(gauge: { sink.yield($0) }), counts)
    }

    @Test("a handler that never honours cancellation: answered 503 at the limit, counted until it ends")
    func stuckHandler() async throws {
        let gate = Gate()
        let router = Router()
        router.get("/stuck") { _, _ in
            await gate.wait()
            return "late"
        }
        router.get("/quick") { _, _ in "quick" }
        router.get("/refused") { _, _ -> String in
            throw HQError(.forbidden, code: "forbidden", message: "no")
        }
        let (inFlight, counts) = Self.counted()
        let responder = DeadlineResponder(base: router.buildResponder(), limit: .milliseconds(300), inFlight: inFlight)
        try await Application(responder: responder).test(.router) { client in
            try await client.execute(uri: "/quick", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "quick")
            }
            try await client.execute(uri: "/refused", method: .get) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/stuck", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = String(buffer: response.body)
                #expect(body.contains("request_timeout"), "\(body)")
            }
            // The stuck handler still runs, and is counted; it ends when its wait does.
            #expect(inFlight.current == 1)
            gate.open()
            var seen: [Int] = []
            for await count in counts {
                seen.append(count)
                if seen.count == 6 { break }
            }
            #expect(seen == [1, 0, 1, 0, 1, 0])
            #expect(inFlight.current == 0)
        }
    }

    @Test("a batch held by a lock past the limit: answered 503 in time, nothing applied, applied once after")
    func lockedBatch() async throws {
        let folder = TemporaryFolder(prefix: "deadline")
        let box = try await OutboxUploadTests.boxDatabase(folder: folder.path, calls: 3)
        let configure: (inout HQConfiguration) -> Void = { $0.requestTimeout = .seconds(2) }
        try await HQHarness.with(configure: configure) { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let client = try SyncClient(baseURL: url, timeout: .seconds(30), logger: Auth.logger)
                let upstream = Upstream(
                    name: "headquarters",
                    policy: UpstreamPolicy(
                        requestTimeout: .seconds(30), retry: RetryPolicy(maxAttempts: 1),
                        breaker: CircuitBreakerPolicy(failureThreshold: 1000)),
                    logger: Logger(label: "box"), metricsFactory: NOOPMetricsHandler.instance)
                let uploader = OutboxUploader(
                    session: SyncSession(
                        database: box, client: client, identity: identity, link: link, upstream: upstream,
                        logger: Auth.logger))
                let lock = try await KillNineTests.TableLock(hq.database)
                let started = ContinuousClock.now
                await #expect(throws: (any Error).self) { try await uploader.drain() }
                let waited = started.duration(to: .now)
                // Before the box's own 30 s (the limit is 2 s; the margin is for a busy test machine).
                #expect(waited < .seconds(25), "answered after \(waited)")
                try await lock.unlock()
                #expect(try await hq.count("conversation_turns", site: link.siteID) == 0)
                // The cancelled handler ends (its statement gave up on cancellation).
                try await ConnectionLossTests.within(60) {
                    while hq.app.requestsInFlight.current != 0 { try await Task.sleep(for: .milliseconds(10)) }
                }
                let report = try await uploader.drain()
                #expect(report.sent == 3 * 3)
                let (boxRows, hqRows) = try await OutboxUploadTests.compare(box: box, hq: hq, site: link.siteID)
                #expect(boxRows == hqRows)
                #expect(hqRows.count == 9)
                await client.shutdown()
            }
        }
        try box.close()
    }

    @Test("/readyz is not ready while every connection of the pool is held, and ready once one is free")
    func readinessFollowsThePool() async throws {
        let configure: (inout HQConfiguration) -> Void = { $0.maximumConnections = 3 }
        try await HQHarness.with(configure: configure) { hq in
            try await hq.serve { url in
                #expect(try await Self.becomesReady(url + "/readyz"))
                let gate = Gate()
                let (holding, holdingSink) = AsyncStream.makeStream(of: Void.self)
                let holders = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<3 {
                            group.addTask {
                                try await hq.database.connection { _ in
                                    holdingSink.yield()
                                    await gate.wait()
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                var held = 0
                for await _ in holding {
                    held += 1
                    if held == 3 { break }
                }
                let exhausted = try await Self.status(url + "/readyz")
                #expect(exhausted == 503)
                gate.open()
                try await holders.value
                #expect(try await Self.becomesReady(url + "/readyz"))
            }
        }
    }

    @Test(
        "a pool query right after PostgreSQL dropped the idle connection: answered, or refused at once as a lost session; the next is answered"
    )
    func queryAfterDroppedConnection() async throws {
        let configure: (inout HQConfiguration) -> Void = { $0.maximumConnections = 1 }
        try await HQHarness.with(configure: configure) { hq in
            let database = hq.database
            for try await one in try await database.query("SELECT 1").decode(Int.self) { #expect(one == 1) }
            let killer = HQDatabase(
                location: hq.app.configuration.database, maximumConnections: 1, logger: Logger(label: "killer"))
            @Sendable func select(_ value: Int) async throws -> Int {
                var answer = 0
                for try await number in try await database.query("SELECT \(value)::int").decode(Int.self) {
                    answer = number
                }
                return answer
            }
            try await killer.whileRunning {
                for round in 0..<5 {
                    try await ConnectionLossTests.kill(killer, state: "idle")
                    // When the pool lends the connection before it has read the server's goodbye,
                    // PostgreSQL's termination message answers the statement: an error that ends the
                    // session, never a wait, and never retried (it cannot be told from a statement
                    // that ran).
                    do {
                        let answer = try await ConnectionLossTests.within(30) { try await select(round) }
                        #expect(answer == round)
                    } catch {
                        #expect(!(error is ConnectionLossTests.Timeout), "the query waited")
                        #expect(HQConnection.endsSession(error), "\(String(reflecting: error))")
                    }
                    // The pool has replaced the connection: the next statement is answered.
                    let next = try await ConnectionLossTests.within(30) { try await select(round + 100) }
                    #expect(next == round + 100)
                }
            }
        }
    }

    /// Whether `/readyz` answers 200 within a minute (its own limit is 2 s; a busy test machine may
    /// need a second try).
    static func becomesReady(_ url: String) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await status(url) == 200 { return true }
        }
        return try await status(url) == 200
    }

    static func status(_ url: String) async throws -> Int {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(20))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }
}
