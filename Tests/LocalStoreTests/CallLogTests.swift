import Foundation
import Sync
import Testing

@testable import LocalStore

@Suite("Call log")
struct CallLogTests {
    let incoming = CallLog.IncomingCall(
        callSid: "CA11111111111111111111111111111111", from: "+15551234567", to: "+15557654321", direction: "inbound",
        status: .ringing)

    @Test("a repeated webhook for the same CallSid creates no second row")
    func idempotentCreate() async throws {
        let store = try TestStore()
        let first = try await store.calls.recordIncoming(incoming)
        let again = try await store.calls.recordIncoming(incoming)
        #expect(first.created)
        #expect(!again.created)
        #expect(again.call == first.call)
        #expect(try await store.count("calls") == 1)
        #expect(try await store.outbox().filter { $0.tableName == "calls" }.count == 1)
    }

    @Test("status callbacks move the call forward and never back from a terminal status")
    func statusOrder() async throws {
        let store = try TestStore()
        let call = try await store.calls.recordIncoming(incoming).call
        store.clock.set(referenceNow.addingTimeInterval(184))
        let completed = try await store.calls.updateStatus(
            callSid: incoming.callSid, status: .completed, durationSeconds: 184)
        #expect(completed?.status == .completed)
        #expect(completed?.durationSeconds == 184)
        #expect(completed?.endedAt == referenceNow.addingTimeInterval(184).unixMilliseconds)
        #expect(completed?.version == 2)
        // An in-progress callback that arrives late changes nothing.
        let late = try await store.calls.updateStatus(
            callSid: incoming.callSid, status: .inProgress, durationSeconds: nil)
        #expect(late?.status == .completed)
        #expect(try await store.calls.call(id: call.id)?.version == 2)
        #expect(try await store.calls.updateStatus(callSid: "CAnone", status: .completed, durationSeconds: nil) == nil)
        #expect(try await store.outbox().filter { $0.tableName == "calls" }.map(\.version) == [1, 2])
    }

    @Test("callbacks out of order never move a call backwards, and an unseen call is recorded in one go")
    func outOfOrderCallbacks() async throws {
        let store = try TestStore()
        var answered = incoming
        answered.status = .inProgress
        let first = try await store.calls.applyStatus(answered, durationSeconds: nil)
        #expect(first.status == .inProgress)
        var ringing = incoming
        ringing.status = .ringing
        let late = try await store.calls.applyStatus(ringing, durationSeconds: nil)
        #expect(late.status == .inProgress)
        #expect(late.version == 1)
        var busy = incoming
        busy.status = .completed
        let done = try await store.calls.applyStatus(busy, durationSeconds: 12)
        #expect(done.status == .completed)
        #expect(done.durationSeconds == 12)
        #expect(try await store.count("calls") == 1)
        #expect(try await store.outbox().filter { $0.tableName == "calls" }.map(\.version) == [1, 2])
    }

    @Test("a known caller's profile counts the call")
    func customerCounted() async throws {
        let store = try TestStore()
        _ = try await store.book.create(
            .init(
                name: "Ada", phone: "+15551234567", partySize: 2, date: LocalDate("2026-12-08")!,
                time: LocalTime("19:00")!, source: .phoneAgent), actor: "agent")
        _ = try await store.calls.recordIncoming(incoming)
        let customer = try await CustomerDirectory(database: store.database).customer(phone: "+15551234567")
        #expect(customer?.callCount == 1)
        #expect(customer?.lastCallAt == referenceNow.unixMilliseconds)
    }

    @Test("turns, tool executions and metrics are stored with their outbox rows")
    func callRecords() async throws {
        let store = try TestStore()
        let call = try await store.calls.recordIncoming(incoming).call
        let turn = ConversationTurn(
            id: "t1", callID: call.id, sequence: 1, speaker: .caller, text: "a table for two", language: "en",
            startedAt: 1, endOfSpeechAt: 2, transcriptFinalAt: 3)
        try await store.calls.append(turn)
        try await store.calls.record(
            ToolExecution(
                id: "x1", callID: call.id, turnID: "t1", tool: "check_availability", arguments: "{}",
                result: "{\"available\":true}", status: .ok, startedAt: 4, durationMilliseconds: 3))
        try await store.calls.record([CallMetric(id: "m1", callID: call.id, name: "turns", value: 1, recordedAt: 5)])
        await #expect(throws: (any Error).self) {
            try await store.calls.append(turn)  // same sequence twice
        }
        #expect(
            try await store.outbox().map(\.tableName) == [
                "calls", "conversation_turns", "tool_executions", "call_metrics",
            ])
    }
}
