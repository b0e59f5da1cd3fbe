// The sync benchmark: one box's backlog of 100,000 outbox rows drained to headquarters, and 20 boxes
// uploading at once, against a real PostgreSQL (`EDGE_HQ_TEST_DATABASE_URL`, as
// provisioning/with-test-postgres.sh sets it) and `edge-hq` on loopback, in this process.
//   provisioning/with-test-postgres.sh swift run -c release sync-benchmark [ROWS] [BOXES]
// With `calls N` instead: N simulated calls (the demo's, callers in an `edge-agent simulate` child
// process) against an agent that has no backlog, then against one whose sync drains ROWS at the same
// time, so the pacing bound can be compared with and without sync.
//   provisioning/with-test-postgres.sh swift run -c release sync-benchmark calls 50 [ROWS]
import CallSimulator
import Crypto
import EdgeAgent
import EdgeHQ
import Foundation
import GRDB
import Hummingbird
import LocalStore
import Logging
import Metrics
import PostgresNIO
import Resilience
import ServiceLifecycle
import Sync
import SyncAgent
import Synchronization
import TestSupport

let arguments = CommandLine.arguments
let callsMode = arguments.count > 1 && arguments[1] == "calls"
let numbers = arguments.dropFirst(callsMode ? 2 : 1).compactMap { Int($0) }
let liveCalls = callsMode ? numbers.first ?? 50 : 0
let backlogRows = (callsMode ? numbers.dropFirst().first : numbers.first) ?? 100_000
let boxCount = callsMode ? 0 : numbers.dropFirst().first ?? 20
let logger: Logger = {
    var logger = Logger(label: "sync-benchmark")
    logger.logLevel = .error
    return logger
}()

guard (try? ScratchPostgres.serverURL()) != nil else {
    FileHandle.standardError.write(Data("sync-benchmark: run it through provisioning/with-test-postgres.sh\n".utf8))
    exit(2)
}
let databaseURL = try await ScratchPostgres.create(prefix: "bench")
let location = try HQConfiguration.parseDatabaseURL(databaseURL)
var configuration = HQConfiguration(database: location)
configuration.allowHTTP = true
configuration.port = 0
configuration.maximumConnections = 24
let hq = HQApp(configuration: configuration, logger: logger)

/// A box's database in a temporary folder with `rows` outbox rows: calls with three turns each.
func boxWithBacklog(rows: Int) async throws -> (EdgeDatabase, String) {
    let folder = NSTemporaryDirectory() + "bench-box-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let database = try EdgeDatabase(dataDirectory: folder, logger: logger)
    try await fillBacklog(database, rows: rows)
    return (database, folder)
}

/// Adds `rows` outbox rows to `database`: old calls with three turns each.
@Sendable func fillBacklog(_ database: EdgeDatabase, rows: Int) async throws {
    try await database.write { db in
        let now: Int64 = 1_790_000_000_000
        var written = 0
        var index = 0
        while written < rows {
            let call = Call(
                id: UUID().uuidString.lowercased(), callSid: "CA" + String(format: "%032d", index),
                fromNumber: "+1555\(String(format: "%07d", index % 10_000_000))", toNumber: "+15557654321",
                status: .completed, startedAt: now, updatedAt: now)
            try call.insert(db)
            try Outbox.enqueueUpsert(.call(call), at: now, in: db)
            written += 1
            for sequence in 1...3 where written < rows {
                let turn = ConversationTurn(
                    id: UUID().uuidString.lowercased(), callID: call.id, sequence: sequence, speaker: .caller,
                    text: "I would like a table for four tomorrow at half past seven, please.", language: "en",
                    startedAt: now)
                try turn.insert(db)
                try Outbox.enqueueUpsert(.conversationTurn(turn), at: now, in: db)
                written += 1
            }
            index += 1
        }
    }
}

@Sendable func upstream() -> Upstream {
    Upstream(
        name: "headquarters",
        policy: UpstreamPolicy(requestTimeout: .seconds(120), retry: RetryPolicy(maxAttempts: 3)),
        logger: logger, metricsFactory: NOOPMetricsHandler.instance)
}

/// Enrols a box for a new site.
@Sendable func enrol(url: String, site name: String) async throws -> (DeviceIdentity, HeadquartersLink) {
    let site = try await hq.directory.addSite(name: name)
    let (token, _) = try await hq.directory.makeEnrolmentToken(site: site.id, validFor: .seconds(3600))
    let identity = DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey())
    let client = try SyncClient(baseURL: url, logger: logger)
    let answer = try await client.enrol(token: token, identity: identity, name: name)
    return (
        identity,
        HeadquartersLink(
            url: url, deviceID: answer.deviceID, siteID: answer.siteID, siteName: name, caCertificatePEM: nil)
    )
}

@Sendable func drain(_ database: EdgeDatabase, url: String, site: String) async throws -> Int {
    let (identity, link) = try await enrol(url: url, site: site)
    let client = try SyncClient(baseURL: url, timeout: .seconds(120), logger: logger)
    let uploader = OutboxUploader(
        session: SyncSession(
            database: database, client: client, identity: identity, link: link, upstream: upstream(), logger: logger))
    return try await uploader.drain().sent
}

func count(_ table: String) async throws -> Int {
    for try await value in try await hq.database.client.query(
        PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)")
    )
    .decode(Int.self) {
        return value
    }
    return 0
}

let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { await hq.database.run() }
    await hq.database.untilRunning()
    try await HQMigrations.apply(hq.database, logger: logger)
    let application = try hq.makeApplication { channel in portSink.yield(channel.localAddress!.port!) }
    let services = ServiceGroup(
        services: [application], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
    group.addTask { try await services.run() }
    var iterator = ports.makeAsyncIterator()
    let url = "http://127.0.0.1:\(await iterator.next()!)"

    print("sync benchmark: \(ProcessInfo.processInfo.activeProcessorCount) cores, PostgreSQL 15 on loopback")
    if callsMode {
        try await pacingUnderSync(url: url)
        await services.triggerGracefulShutdown()
        group.cancelAll()
        return
    }
    let (box, folder) = try await boxWithBacklog(rows: backlogRows)
    let started = ContinuousClock.now
    let sent = try await drain(box, url: url, site: "backlog")
    let seconds = (ContinuousClock.now - started).components
    let elapsed = Double(seconds.seconds) + Double(seconds.attoseconds) / 1e18
    let stored = try await count("calls") + count("conversation_turns")
    print(
        String(
            format: "one box, backlog of %d rows: drained in %.1f s (%.0f rows/s); headquarters holds %d rows",
            sent, elapsed, Double(sent) / elapsed, stored))
    try box.close()
    try? FileManager.default.removeItem(atPath: folder)

    let perBox = backlogRows / boxCount
    var boxes: [(EdgeDatabase, String)] = []
    for _ in 0..<boxCount { boxes.append(try await boxWithBacklog(rows: perBox)) }
    let before = stored
    let concurrentStart = ContinuousClock.now
    let total = try await withThrowingTaskGroup(of: Int.self) { uploads in
        for (index, (database, _)) in boxes.enumerated() {
            uploads.addTask { try await drain(database, url: url, site: "box-\(index)") }
        }
        var sum = 0
        for try await sent in uploads { sum += sent }
        return sum
    }
    let concurrent = (ContinuousClock.now - concurrentStart).components
    let concurrentSeconds = Double(concurrent.seconds) + Double(concurrent.attoseconds) / 1e18
    let after = try await count("calls") + count("conversation_turns")
    print(
        String(
            format:
                "%d boxes at once, %d rows each: %d rows in %.1f s, headquarters ingests %.0f rows/s; it holds %d new rows",
            boxCount, perBox, total, concurrentSeconds, Double(total) / concurrentSeconds, after - before))
    for (database, folder) in boxes {
        try database.close()
        try? FileManager.default.removeItem(atPath: folder)
    }
    await services.triggerGracefulShutdown()
    group.cancelAll()
}
try await ScratchPostgres.drop(databaseURL)

/// The demo's calls twice: without sync, then with the agent's outbox draining `backlogRows` to
/// headquarters at the same time. The callers run in an `edge-agent simulate` child process (the
/// `edge-agent` binary beside this one), so the pacing they see is the agent's alone.
func pacingUnderSync(url: String) async throws {
    let edgeAgent = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("edge-agent")
    guard FileManager.default.isExecutableFile(atPath: edgeAgent.path) else {
        FileHandle.standardError.write(Data("sync-benchmark: build edge-agent first (swift build -c release)\n".utf8))
        exit(2)
    }
    let runner = DemoRunner(logger: logger)
    let callers = DemoRunner.callersInChildProcess(edgeAgent)
    func report(_ title: String, _ summary: DemoRunner.Summary, callers: [String]) {
        print(title)
        print("  bookings \(summary.reservations)")
        for line in callers { print("  callers: " + line.trimmingCharacters(in: .whitespaces)) }
        print(
            "  worst frame lateness per call at the pacer \(summary.worstFrameLateness.map(String.init(describing:)) ?? "-")"
        )
        print("  agent's own time \(summary.agentLatency.map(String.init(describing:)) ?? "-")")
    }
    /// The callers' own figures (their process's report): the pacing they saw and their wait.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func keep(_ line: String) {
            if line.contains("pacing") || line.contains("response latency") || line.contains("sync drained") {
                lines.withLock { $0.append(line) }
            }
        }
        func take() -> [String] {
            lines.withLock { lines in
                let taken = lines
                lines = []
                return taken
            }
        }
    }
    let kept = Lines()
    let quiet = try await runner.run(calls: liveCalls, externalCallers: callers) { kept.keep($0) }
    report("\(liveCalls) calls, no sync:", quiet, callers: kept.take())
    let busy = try await runner.run(
        calls: liveCalls, externalCallers: callers,
        prepare: { app in try await fillBacklog(app.database, rows: backlogRows) },
        alongside: { app in
            let started = ContinuousClock.now
            let sent = try await drain(app.database, url: url, site: "live-\(UUID().uuidString.prefix(8))")
            let elapsed = (ContinuousClock.now - started).components
            return String(
                format: "the sync drained %d rows in %.1f s while the calls ran", sent,
                Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
        },
        print: { kept.keep($0) })
    report("\(liveCalls) calls while the sync drains \(backlogRows) rows:", busy, callers: kept.take())
}
