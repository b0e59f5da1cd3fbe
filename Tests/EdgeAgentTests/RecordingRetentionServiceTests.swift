import CallRecording
import Foundation
import GRDB
import LocalStore
import StoreTestSupport
import Sync
import Synchronization
import TestSupport
import Testing

@testable import EdgeAgent

/// `serve`'s daily retention pass, on a wall clock and days the test turns.
@Suite("recording retention while the agent runs")
struct RecordingRetentionServiceTests {
    /// The wall clock the recordings' ages are measured on.
    final class SettableClock: WallClock {
        private let instant = Mutex(Date())
        func now() -> Date { instant.withLock { $0 } }
        func advance(days: Double) { instant.withLock { $0 += days * 86_400 } }
    }

    /// The service's waits between passes: each is held until the test lets the day pass, and each
    /// start is announced, so the test knows the pass before it has finished.
    final class ManualDays: Sendable {
        let waits: AsyncStream<Duration>
        private let announce: AsyncStream<Duration>.Continuation
        private let held = Mutex<[CheckedContinuation<Void, any Error>]>([])

        init() {
            (waits, announce) = AsyncStream.makeStream(of: Duration.self)
        }

        func sleep(_ duration: Duration) async throws {
            try Task.checkCancellation()
            try await withCheckedThrowingContinuation { continuation in
                held.withLock { $0.append(continuation) }
                announce.yield(duration)
            }
            try Task.checkCancellation()
        }

        /// Ends the oldest wait, as if its day had passed.
        func pass() {
            held.withLock { $0.isEmpty ? nil : $0.removeFirst() }?.resume()
        }
    }

    /// A finished recording of a new call, started at the clock's now.
    static func record(_ app: EdgeAgentApp) async throws -> String {
        let callID = try await CallLog(database: app.database).inbound(from: "+15550100100").id
        let recordings = try #require(app.recordings)
        let (recorder, id) = try await recordings.start(callID: callID, at: .now)
        let summary = await recorder.finish()
        try await recordings.vault.finish(
            id: id, complete: true, durationMilliseconds: 0, sizeBytes: summary.sizeBytes,
            ciphertextSHA256: summary.ciphertextSHA256)
        return id
    }

    static func state(_ app: EdgeAgentApp, _ id: String) async throws -> (Recording.State, fileExists: Bool) {
        let row = try #require(try await RecordingVault(database: app.database).recording(id: id))
        return (row.state, FileManager.default.fileExists(atPath: app.recordings!.path(of: row.fileName)))
    }

    @Test("once a day it deletes exactly the recordings past retention, and keeps the rest until their day")
    func daily() async throws {
        let folder = TemporaryFolder()
        var configuration = testConfiguration(folder: folder)
        configuration.recordingPublicKey = try RecordingIdentity.generate().publicKeyBase64
        configuration.recording.retentionDays = 30
        let clock = SettableClock()
        let logs = LogCapture()
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger, clock: clock)

        let oldest = try await Self.record(app)
        clock.advance(days: 10)
        let newer = try await Self.record(app)

        let days = ManualDays()
        let service = RecordingRetentionService(
            recordings: app.recordings, retentionDays: 30, sleep: { try await days.sleep($0) }, logger: logs.logger)
        let running = Task { try await service.run() }
        var waits = days.waits.makeAsyncIterator()
        #expect(await waits.next() == .seconds(86_400))

        // Day 29 of the oldest: nothing is due.
        clock.advance(days: 19)
        days.pass()
        #expect(await waits.next() == .seconds(86_400))
        #expect(try await Self.state(app, oldest) == (.complete, true))
        #expect(try await Self.state(app, newer) == (.complete, true))

        // Day 31 of the oldest, day 21 of the newer: only the oldest goes, file and key.
        clock.advance(days: 2)
        days.pass()
        #expect(await waits.next() == .seconds(86_400))
        #expect(try await Self.state(app, oldest) == (.deleted, false))
        #expect(try await Self.state(app, newer) == (.complete, true))

        // Ten days on, the newer's day has come too.
        clock.advance(days: 10)
        days.pass()
        #expect(await waits.next() == .seconds(86_400))
        #expect(try await Self.state(app, newer) == (.deleted, false))
        let audited = try await app.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = 'recording.delete'")
        }
        #expect(audited == 2)

        running.cancel()
        days.pass()
        try await running.value
        await app.shutdown()
    }

    @Test("without a recording key there is nothing to keep, and the service ends at once")
    func noRecordings() async throws {
        let service = RecordingRetentionService(
            recordings: nil, retentionDays: 30, sleep: { _ in Issue.record("slept with nothing to do") },
            logger: LogCapture().logger)
        try await service.run()
    }
}
