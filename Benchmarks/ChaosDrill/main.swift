// The seeded chaos drill: random combinations of sync faults, each run ending with a row-by-row
// comparison of the box and headquarters. Against a real PostgreSQL (`EDGE_HQ_TEST_DATABASE_URL`, as
// provisioning/with-test-postgres.sh sets it), `edge-hq` in this process, and between them a
// loopback proxy that refuses, cuts or stalls requests:
//   provisioning/with-test-postgres.sh swift run -c release chaos-drill --runs 1000 --seed 1
// Faults per run, drawn from the seed: headquarters down (refused), the network cut after headquarters
// answered (so the box never hears), responses stalled past the box's timeout, and during a batch,
// headquarters' transactions killed (pg_terminate_backend), its connections cut by a proxy between
// it and PostgreSQL, or PostgreSQL restarted (`pg_ctl restart -m fast`, when with-test-postgres.sh
// says where the server is: EDGE_HQ_TEST_PGDATA); old batches delivered again out of order,
// the box's clock an hour fast or slow, reservations changed at both ends, erasures.
// After each run no request handler of headquarters may still be running, and at the end
// headquarters stops gracefully. Prints rows lost, duplicated (or resurrected) and divergent, stuck
// handlers, and how long the backlog took to drain after the last fault; exits 1 unless all are 0.
import AsyncHTTPClient
import Crypto
import EdgeHQ
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import LocalStore
import Logging
import Metrics
import NIOCore
import PostgresNIO
import Resilience
import ServiceLifecycle
import Sync
import SyncAgent
import Synchronization
import TestSupport

let logger: Logger = {
    var logger = Logger(label: "chaos-drill")
    // With --verbose, headquarters' errors are shown too (statements given up on, requests past
    // their limit).
    logger.logLevel = CommandLine.arguments.contains("--verbose") ? .error : .critical
    return logger
}()

func option(_ name: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return Int(arguments[index + 1]) ?? fallback
}
let runs = option("--runs", 20)
let firstSeed = option("--seed", 1)

/// SplitMix64: the drill's only source of randomness, so a seed replays a run exactly (as far as
/// thread timing allows).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What the proxy does to requests.
enum ProxyMode: Int, CaseIterable {
    case pass, refuse, cutAfter, stall
}

/// A loopback HTTP proxy in front of headquarters: passes requests on, or refuses them (headquarters
/// down), or forwards them and answers 502 (the answer lost on the way back), or forwards them and
/// holds the answer past the box's timeout.
final class FaultProxy: Sendable {
    let upstream: String
    let mode = Mutex(ProxyMode.pass)

    init(upstream: String) { self.upstream = upstream }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.on("**", method: .get) { request, _ in try await self.forward(request) }
        router.on("**", method: .post) { request, _ in try await self.forward(request) }
        return router
    }

    func forward(_ request: Request) async throws -> Response {
        let mode = self.mode.withLock { $0 }
        if mode == .refuse { return Response(status: .serviceUnavailable) }
        var outbound = HTTPClientRequest(url: upstream + request.uri.description)
        outbound.method = request.method == .get ? .GET : .POST
        for field in request.headers where field.name.canonicalName != "host" {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        outbound.body = .bytes(try await request.body.collect(upTo: 64 * 1024 * 1024))
        let response = try await HTTPClient.shared.execute(outbound, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        switch mode {
        case .cutAfter: return Response(status: .badGateway)
        case .stall: try await Task.sleep(for: .milliseconds(600))
        default: break
        }
        var headers = HTTPFields()
        for header in response.headers {
            if let name = HTTPField.Name(header.name) { headers[name] = header.value }
        }
        return Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: body))
    }
}

/// What goes wrong at PostgreSQL while a batch is applied.
enum DatabaseFault: CaseIterable {
    case none, kill, cut, restart
}

struct Tally {
    var lost = 0
    var duplicated = 0
    var divergent = 0
    /// Request handlers of headquarters still running after a run had ended.
    var stuck = 0
    var faults: [DatabaseFault: Int] = [:]
    var drainSeconds: [Double] = []
}

/// Restarts the PostgreSQL server the drill runs against (`pg_ctl restart -m fast`, waiting until it
/// accepts connections again), as the user it runs as.
struct PostgresRestarter {
    let programs: String
    let data: String
    let user: String

    /// From with-test-postgres.sh's EDGE_HQ_TEST_PG_BIN, EDGE_HQ_TEST_PGDATA and EDGE_HQ_TEST_PG_USER.
    static func fromEnvironment() -> PostgresRestarter? {
        let environment = ProcessInfo.processInfo.environment
        guard let programs = environment["EDGE_HQ_TEST_PG_BIN"], let data = environment["EDGE_HQ_TEST_PGDATA"],
            let user = environment["EDGE_HQ_TEST_PG_USER"], !programs.isEmpty, !data.isEmpty
        else { return nil }
        return PostgresRestarter(programs: programs, data: data, user: user)
    }

    func restart() async throws {
        let log = (data as NSString).deletingLastPathComponent + "/server.log"
        var arguments = [programs + "/pg_ctl", "-D", data, "-l", log, "-m", "fast", "-w", "-t", "60", "restart"]
        if getuid() == 0 { arguments = ["runuser", "-u", user, "--"] + arguments }
        // Spawned and reaped here, on a thread of its own (waitpid blocks): Foundation's `Process`
        // was seen never to notice this child's exit in the drill, leaving it a zombie.
        let command = arguments
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
                let argv = (["/usr/bin/env"] + command).map { strdup($0) } + [nil]
                defer { for pointer in argv { free(pointer) } }
                var pid: pid_t = 0
                let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
                guard spawned == 0 else {
                    continuation.resume(
                        throwing: DrillError("cannot start pg_ctl: \(String(cString: strerror(spawned)))"))
                    return
                }
                var wait: Int32 = 0
                var reaped = waitpid(pid, &wait, 0)
                while reaped < 0 && errno == EINTR { reaped = waitpid(pid, &wait, 0) }
                guard reaped == pid else {
                    continuation.resume(
                        throwing: DrillError("cannot wait for pg_ctl: \(String(cString: strerror(errno)))"))
                    return
                }
                // As WIFEXITED and WEXITSTATUS would say (the macros are not imported): killed by a
                // signal counts as a failure.
                continuation.resume(returning: wait & 0x7f == 0 ? (wait >> 8) & 0xff : 128 + (wait & 0x7f))
            }
        }
        guard status == 0 else {
            throw DrillError("pg_ctl restart exited with \(status); see \(log)")
        }
    }
}

struct DrillError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `body`, tried up to three times: the drill's own steps (a site, an enrolment, a comparison) may
/// meet a connection the last fault left dead, which is not what the drill measures.
func again<Value>(_ body: () async throws -> Value) async throws -> Value {
    for _ in 0..<2 {
        do { return try await body() } catch { try await Task.sleep(for: .milliseconds(200)) }
    }
    return try await body()
}

let policy = ReservationPolicy(
    timeZone: TimeZone(identifier: "UTC")!,
    openingHours: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [.init("00:00-23:45")!]) }),
    closedDates: [], slotMinutes: 15, seatsPerSlot: 1000, maxPartySize: 20, diningMinutes: 60)

guard (try? ScratchPostgres.serverURL()) != nil else {
    FileHandle.standardError.write(Data("chaos-drill: run it through provisioning/with-test-postgres.sh\n".utf8))
    exit(2)
}

let databaseURL = try await ScratchPostgres.create(prefix: "chaos")
let location = try HQConfiguration.parseDatabaseURL(databaseURL)
/// Headquarters reaches PostgreSQL through the proxy that cuts connections; the drill's observer
/// connects directly.
let databaseProxy = try await ConnectionCutProxy(host: location.host, upstreamPort: location.port)
var proxied = location
proxied.host = "127.0.0.1"
proxied.port = databaseProxy.port
let restarter = PostgresRestarter.fromEnvironment()
var configuration = HQConfiguration(database: proxied)
configuration.allowHTTP = true
configuration.port = 0
let hq = HQApp(configuration: configuration, logger: logger)
/// The drill's own connections (headquarters' staff writes, the killer, the comparison), apart from
/// headquarters' pool, so that the drill observes headquarters rather than shares its fate.
let observer = HQDatabase(location: location, maximumConnections: 4, logger: logger)

func upstream() -> Upstream {
    Upstream(
        name: "headquarters",
        policy: UpstreamPolicy(
            requestTimeout: .seconds(30),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20)),
            breaker: CircuitBreakerPolicy(failureThreshold: 1_000_000)),
        logger: logger, metricsFactory: NOOPMetricsHandler.instance)
}

/// A server for `router` on a free loopback port, and the stream that tells its port once it listens.
func makeServer(_ router: Router<BasicRequestContext>) -> (ServiceGroup, AsyncStream<Int>) {
    let (ports, sink) = AsyncStream.makeStream(of: Int.self)
    let application = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { sink.yield($0.localAddress!.port!) }, logger: logger)
    return (
        ServiceGroup(services: [application], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger),
        ports
    )
}

func firstPort(_ ports: AsyncStream<Int>) async -> Int {
    var iterator = ports.makeAsyncIterator()
    return await iterator.next()!
}

/// Every (table, id, version, content) a box holds that headquarters must hold too.
func boxRows(_ database: EdgeDatabase) async throws -> [String: String] {
    try await database.read { db in
        var rows: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, version FROM calls") {
            rows["calls/\(row["id"] as String)"] = "\(row["version"] as Int64)"
        }
        for id in try String.fetchAll(db, sql: "SELECT id FROM conversation_turns") {
            rows["conversation_turns/\(id)"] = "1"
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, party_size, status FROM reservations") {
            rows["reservations/\(row["id"] as String)"] = "\(row["party_size"] as Int)/\(row["status"] as String)"
        }
        return rows
    }
}

func hqRows(site: String) async throws -> [String: String] {
    var rows: [String: String] = [:]
    for try await (table, id, value) in try await observer.query(
        """
        SELECT 'calls', id, version::text FROM calls WHERE site_id = \(site)
        UNION ALL SELECT 'conversation_turns', id, '1' FROM conversation_turns WHERE site_id = \(site)
        UNION ALL SELECT 'reservations', id, party_size::text || '/' || status FROM reservations WHERE site_id = \(site)
        """
    ).decode((String, String, String).self) {
        rows["\(table)/\(id)"] = value
    }
    return rows
}

var tally = Tally()
/// Handlers already counted stuck in earlier runs (each is counted once).
var stuckBefore = 0
let started = ContinuousClock.now
/// The pools run until the servers have stopped.
let pools = Task {
    await withDiscardingTaskGroup { group in
        group.addTask { await hq.database.run() }
        group.addTask { await observer.run() }
    }
}
await hq.database.untilRunning()
await observer.untilRunning()
try await HQMigrations.apply(hq.database, logger: logger)
let (hqPorts, hqPortSink) = AsyncStream.makeStream(of: Int.self)
let hqServices = ServiceGroup(
    services: [try hq.makeApplication(onServerRunning: { hqPortSink.yield($0.localAddress!.port!) })],
    gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
let hqRun = Task { try await hqServices.run() }
let proxy = FaultProxy(upstream: "http://127.0.0.1:\(await firstPort(hqPorts))")
let (proxyServices, proxyPorts) = makeServer(proxy.router)
let proxyRun = Task { try await proxyServices.run() }
let url = "http://127.0.0.1:\(await firstPort(proxyPorts))"
do {
    for seed in firstSeed..<firstSeed + runs {
        var random = SeededGenerator(state: UInt64(seed))
        proxy.mode.withLock { $0 = .pass }
        let site = try await again {
            try await hq.directory.addSite(name: "chaos-\(seed)-\(UUID().uuidString.prefix(8))")
        }
        let (token, _) = try await again {
            try await hq.directory.makeEnrolmentToken(site: site.id, validFor: .seconds(600))
        }
        let identity = DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey())
        let skew: Int64 = [0, 3_600_000, -3_600_000].randomElement(using: &random)!
        // A short timeout, so that a stalled answer (0.6 s) counts as lost.
        let client = try SyncClient(baseURL: url, timeout: .milliseconds(400), logger: logger) {
            Int64(Date().timeIntervalSince1970 * 1000) + skew
        }
        let enrolment = try await again { try await client.enrol(token: token, identity: identity, name: "drill") }
        let link = HeadquartersLink(
            url: url, deviceID: enrolment.deviceID, siteID: site.id, siteName: site.name, caCertificatePEM: nil)
        let folder = NSTemporaryDirectory() + "chaos-box-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let box = try EdgeDatabase(dataDirectory: folder, logger: logger)
        let calls = CallLog(database: box)
        let book = ReservationBook(database: box, policy: policy)
        var uploader = OutboxUploader(
            session: SyncSession(
                database: box, client: client, identity: identity, link: link, upstream: upstream(), logger: logger))
        uploader.maximumRows = Int.random(in: 3...40, using: &random)
        let downloader = DownloadApplier(
            session: SyncSession(
                database: box, client: client, identity: identity, link: link, upstream: upstream(), logger: logger))
        var sentBatches: [[UInt8]] = []
        var reservations: [String] = []
        var phones: [String] = []
        let tomorrow = LocalDate(Date().addingTimeInterval(86_400), in: TimeZone(identifier: "UTC")!)

        if CommandLine.arguments.contains("--verbose") {
            FileHandle.standardError.write(Data("seed \(seed)\n".utf8))
        }
        for step in 0..<Int.random(in: 8...16, using: &random) {
            if CommandLine.arguments.contains("--verbose") {
                FileHandle.standardError.write(Data("  step \(step)\n".utf8))
            }
            switch Int.random(in: 0..<9, using: &random) {
            case 0, 1:
                let phone = "+1555\(String(format: "%07d", Int.random(in: 0..<9_999_999, using: &random)))"
                phones.append(phone)
                let call = try await calls.recordIncoming(
                    .init(
                        callSid: "CA" + String(format: "%032d", seed * 1000 + step), from: phone, to: "+15557654321",
                        direction: "inbound", status: .inProgress)
                ).call
                for sequence in 1...Int.random(in: 1...4, using: &random) {
                    try await calls.append(
                        ConversationTurn(
                            id: UUID().uuidString.lowercased(), callID: call.id, sequence: sequence, speaker: .caller,
                            text: "turn \(sequence)", startedAt: Int64(sequence)))
                }
            case 2:
                let reservation = try await book.create(
                    .init(
                        name: "Guest \(step)", phone: phones.randomElement(using: &random),
                        partySize: Int.random(in: 1...8, using: &random),
                        date: tomorrow, time: LocalTime(hour: Int.random(in: 10...22, using: &random), minute: 0)!,
                        source: .phoneAgent), actor: "drill")
                reservations.append(reservation.id)
            case 3:
                if let id = reservations.randomElement(using: &random) {
                    _ = try? await book.update(
                        id: id, .init(partySize: Int.random(in: 1...8, using: &random)), actor: "drill")
                }
            case 4:
                // Headquarters changes a booking (staff at headquarters): conflicts with the box's own changes.
                if let id = reservations.randomElement(using: &random) {
                    var current: String?
                    for try await row in try await observer.query(
                        "SELECT row::text FROM reservations WHERE site_id = \(site.id) AND id = \(id)"
                    ).decode(String.self) { current = row }
                    if let current,
                        var row = try JSONSerialization.jsonObject(with: Data(current.utf8)) as? [String: Any]
                    {
                        row["party_size"] = Int.random(in: 1...8, using: &random)
                        let json = String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self)
                        let now = Int64(Date().timeIntervalSince1970 * 1000)
                        try await observer.query(
                            "SELECT hq_write(\(site.id), 'reservations', \(id), \(now), \(json)::jsonb)")
                    }
                }
            case 5:
                if let phone = phones.randomElement(using: &random) {
                    _ = try await PrivacyRequests(database: box).erase(phone: phone, actor: "drill") { _ in }
                    reservations = try await box.read { db in
                        try String.fetchAll(db, sql: "SELECT id FROM reservations")
                    }
                }
            case 6:
                // An old batch delivered again, out of order.
                if let old = sentBatches.randomElement(using: &random) {
                    _ = try? await client.upload(json: old, identity: identity, deviceID: link.deviceID)
                }
            default:
                // A sync round under a fault: refused, cut, stalled, or headquarters' transactions killed.
                let mode = ProxyMode.allCases.randomElement(using: &random)!
                proxy.mode.withLock { $0 = mode }
                if let next = try await uploader.nextBatch() { sentBatches.append(next.batch.json) }
                // Meanwhile, at PostgreSQL: nothing, headquarters' batch killed, its connections cut,
                // or the server restarted.
                let drawn = DatabaseFault.allCases.randomElement(using: &random)!
                let fault = drawn == .restart && restarter == nil ? .kill : drawn
                tally.faults[fault, default: 0] += 1
                if CommandLine.arguments.contains("--verbose") {
                    FileHandle.standardError.write(Data("    sync round: proxy \(mode), PostgreSQL \(fault)\n".utf8))
                }
                let delay = Int.random(in: 0...30, using: &random)
                let killer = Task {
                    try? await Task.sleep(for: .milliseconds(delay))
                    switch fault {
                    case .none: break
                    case .kill:
                        _ = try? await observer.query(
                            """
                            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                            WHERE query LIKE '%FROM sync_apply_batch(%' AND query NOT LIKE '%pg_terminate_backend%'
                                AND pid <> pg_backend_pid() AND datname = current_database()
                            """)
                    case .cut: await databaseProxy.cutAll()
                    case .restart: try await restarter?.restart()
                    }
                }
                _ = try? await uploader.drain()
                _ = try? await downloader.pull()
                try await killer.value
                if CommandLine.arguments.contains("--verbose") {
                    FileHandle.standardError.write(Data("    sync round done\n".utf8))
                }
                proxy.mode.withLock { $0 = .pass }
            }
        }
        // Healed: sync until the backlog is empty and the pull is done.
        let healed = ContinuousClock.now
        while healed.duration(to: .now) < .seconds(90) {
            do {
                _ = try await uploader.drain()
                _ = try await downloader.pull()
                let backlog = try await box.read { db in try Outbox.backlog(in: db).count }
                if backlog == 0 { break }
            } catch {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let drain = healed.duration(to: .now)
        tally.drainSeconds.append(Double(drain.components.seconds) + Double(drain.components.attoseconds) / 1e18)
        let onBox = try await boxRows(box)
        let atHQ = try await again { try await hqRows(site: site.id) }
        let lost = onBox.keys.filter { atHQ[$0] == nil }.count
        let extra = atHQ.keys.filter { onBox[$0] == nil }.count
        let divergent = onBox.filter { key, value in atHQ[key].map { $0 != value } ?? false }.count
        tally.lost += lost
        tally.duplicated += extra
        tally.divergent += divergent
        if lost + extra + divergent > 0 {
            print("seed \(seed): \(lost) lost, \(extra) duplicated or resurrected, \(divergent) divergent")
        }
        // No handler of headquarters may still be running 10 s after the run: nothing in the drill
        // takes that long but a handler waiting on a statement the server will never answer (given up
        // only by HQConnection's 20 s deadline, or the request's 30 s).
        let settling = ContinuousClock.now
        while hq.requestsInFlight.current > stuckBefore, settling.duration(to: .now) < .seconds(10) {
            try await Task.sleep(for: .milliseconds(10))
        }
        if hq.requestsInFlight.current > stuckBefore {
            tally.stuck += hq.requestsInFlight.current - stuckBefore
            stuckBefore = hq.requestsInFlight.current
            print(
                "seed \(seed): \(hq.requestsInFlight.current) request handlers of headquarters still running 10 s after the run"
            )
        }
        try box.close()
        try? FileManager.default.removeItem(atPath: folder)
        await client.shutdown()
    }
} catch {
    print("chaos drill: stopped by an error: \(error)")
    tally.lost += 1
}

// Headquarters stops gracefully: every request in flight is answered (each within its 30 s limit), and
// a watchdog ends the drill, failed, should the stop itself hang for 60 s. A handler abandoned at its
// limit does not hold the stop, so the count of handlers still running is checked after it.
let stopping = ContinuousClock.now
let watchdog = Task {
    try await Task.sleep(for: .seconds(60))
    print("chaos drill: headquarters did not stop within 60 s: a request handler is stuck")
    exit(1)
}
await proxyServices.triggerGracefulShutdown()
await hqServices.triggerGracefulShutdown()
_ = await proxyRun.result
_ = await hqRun.result
let stopped = stopping.duration(to: .now)
watchdog.cancel()
if hq.requestsInFlight.current > stuckBefore {
    print("chaos drill: \(hq.requestsInFlight.current - stuckBefore) request handlers still running after the stop")
    tally.stuck += hq.requestsInFlight.current - stuckBefore
}
await databaseProxy.stop()
pools.cancel()
await pools.value

let sorted = tally.drainSeconds.sorted()
let elapsed = started.duration(to: .now).components.seconds
let faults = DatabaseFault.allCases.map { "\($0) \(tally.faults[$0, default: 0])" }.joined(separator: ", ")
print(
    "chaos drill: \(runs) runs from seed \(firstSeed) in \(elapsed) s: rows lost \(tally.lost), duplicated \(tally.duplicated), divergent \(tally.divergent); stuck handlers \(tally.stuck); "
        + String(
            format: "backlog drained after the last fault in p50 %.2f s, p99 %.2f s, max %.2f s; ",
            sorted.isEmpty ? 0 : sorted[sorted.count / 2],
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * 99 / 100)], sorted.last ?? 0)
        + String(
            format: "graceful stop in %.2f s; ",
            Double(stopped.components.attoseconds) / 1e18 + Double(stopped.components.seconds))
        + "faults at PostgreSQL during batches: \(faults)\(restarter == nil ? " (no restarts: EDGE_HQ_TEST_PGDATA not set)" : "")"
)
try? await dropDatabase(databaseURL)
exit(tally.lost + tally.duplicated + tally.divergent + tally.stuck == 0 ? 0 : 1)

/// Drops the drill's database, giving up after ten seconds.
func dropDatabase(_ url: String) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await ScratchPostgres.drop(url) }
        group.addTask { try await Task.sleep(for: .seconds(10)) }
        try await group.next()
        group.cancelAll()
    }
}
