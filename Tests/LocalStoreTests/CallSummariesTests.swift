import Foundation
import GRDB
import LocalStore
import StoreTestSupport
import Sync
import Testing

/// A day of calls rolled up into one synced row.
@Suite("Daily call summaries")
struct CallSummariesTests {
    @Test("a day's calls are counted by outcome, in the restaurant's day; a new version only when a figure changes")
    func rollUp() async throws {
        let store = try TestStore()
        let zone = testPolicy.timeZone
        let date = LocalDate(referenceNow, in: zone)
        let log = store.calls
        var ids: [String] = []
        for (index, outcome) in ["reservation_created", "reservation_created", "message_taken", nil].enumerated() {
            let call = try await log.inbound(callSid: "CA\(index)", from: "+1555000000\(index)")
            _ = try await log.recordConversation(callID: call.id, language: "en", outcome: outcome)
            try await log.record([
                CallMetric(
                    id: "m\(index)", callID: call.id, name: "mean_response_latency_ms",
                    value: Double(300 + index * 100),
                    recordedAt: 1)
            ])
            ids.append(call.id)
        }
        // A call of the day before, in the restaurant's time zone, is not counted.
        store.clock.set(referenceNow.addingTimeInterval(-86_400))
        _ = try await log.inbound(callSid: "CAold", from: "+15550009999")
        store.clock.set(referenceNow)

        let summaries = CallSummaries(database: store.database)
        let summary = try await summaries.rollUp(date: date, timeZone: zone)
        #expect(summary.id == date.description)
        #expect(summary.calls == 4)
        #expect(summary.reservationsCreated == 2 && summary.messagesTaken == 1 && summary.noConversation == 1)
        #expect(summary.meanResponseLatencyMilliseconds == 450)
        #expect(summary.version == 1)

        // Rolled up again with nothing new: the same row, nothing queued twice.
        #expect(try await summaries.rollUp(date: date, timeZone: zone).version == 1)
        let queued = try await store.outbox().filter { $0.tableName == "daily_call_summaries" }
        #expect(queued.count == 1)
        // Another call ends: the next version, queued for headquarters.
        _ = try await log.inbound(callSid: "CA9", from: "+15550001234")
        let next = try await summaries.rollUp(date: date, timeZone: zone)
        #expect(next.calls == 5 && next.version == 2)
        #expect(try await store.outbox().filter { $0.tableName == "daily_call_summaries" }.count == 2)
    }
}
