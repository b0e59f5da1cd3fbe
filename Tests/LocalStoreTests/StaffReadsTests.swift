import Foundation
import GRDB
import StoreTestSupport
import Sync
import Testing

@testable import LocalStore

/// What the staff admin API reads and does: messages, calls, a day's book and its covers.
@Suite("Staff reads: messages, calls, reservations and covers")
struct StaffReadsTests {
    func auditActions(_ store: TestStore, entity: String) async throws -> [String] {
        try await store.database.read { db in
            try String.fetchAll(
                db, sql: "SELECT actor || ' ' || action FROM audit_log WHERE entity = ? ORDER BY id",
                arguments: [entity])
        }
    }

    @Test("messages newest first, by status, limited; marking one handled is audited once and idempotent")
    func messages() async throws {
        let store = try TestStore()
        let board = StaffMessageBoard(database: store.database)
        var left: [StaffMessage] = []
        for index in 0..<3 {
            store.clock.set(referenceNow.addingTimeInterval(Double(index) * 60))
            left.append(
                try await board.leave(
                    message: "message \(index)", callbackPhone: nil, callID: nil, language: "en"))
        }
        #expect(try await board.list().map(\.message) == ["message 2", "message 1", "message 0"])
        #expect(try await board.list(limit: 2).map(\.message) == ["message 2", "message 1"])

        let handled = try await board.markHandled(id: left[1].id, actor: "token:maria")
        #expect(handled?.status == .done && handled?.message == "message 1")
        let again = try await board.markHandled(id: left[1].id, actor: "token:maria")
        #expect(again == handled)
        #expect(try await board.markHandled(id: "no-such-message", actor: "token:maria") == nil)

        #expect(try await board.list(status: .new).map(\.message) == ["message 2", "message 0"])
        #expect(try await board.list(status: .done).map(\.id) == [left[1].id])
        #expect(try await board.list(status: .read).isEmpty)
        #expect(try await board.open().map(\.message) == ["message 2", "message 0"])
        #expect(
            try await auditActions(store, entity: "staff_messages") == [
                "agent message.leave", "agent message.leave", "agent message.leave", "token:maria message.handled",
            ])
    }

    @Test("recent calls newest first with paging; a call's tool executions and metrics in order")
    func calls() async throws {
        let store = try TestStore()
        var ids: [String] = []
        for index in 0..<3 {
            store.clock.set(referenceNow.addingTimeInterval(Double(index) * 600))
            ids.append(try await store.calls.inbound(callSid: "CA\(index)", from: "+1555000000\(index)").id)
        }
        #expect(try await store.calls.recent().map(\.id) == ids.reversed())
        let firstPage = try await store.calls.recent(limit: 2)
        #expect(firstPage.map(\.id) == [ids[2], ids[1]])
        #expect(try await store.calls.recent(limit: 2, before: firstPage.last?.startedAt).map(\.id) == [ids[0]])
        #expect(try await store.calls.recent(limit: 0).isEmpty)

        try await store.calls.record(
            ToolExecution(
                id: "tool-b", callID: ids[0], turnID: nil, tool: "check_availability", arguments: "{}",
                result: "{}", status: .ok, startedAt: 20, durationMilliseconds: 3))
        try await store.calls.record(
            ToolExecution(
                id: "tool-a", callID: ids[0], turnID: nil, tool: "get_menu", arguments: "{}", result: "{}",
                status: .error, startedAt: 10, durationMilliseconds: 4))
        try await store.calls.record(
            ToolExecution(
                id: "tool-other", callID: ids[1], turnID: nil, tool: "get_menu", arguments: "{}", result: "{}",
                status: .ok, startedAt: 5, durationMilliseconds: 1))
        try await store.calls.record([
            CallMetric(id: "m2", callID: ids[0], name: "turns", value: 4, recordedAt: 30),
            CallMetric(id: "m1", callID: ids[0], name: "first_audio_ms", value: 640, recordedAt: 15),
        ])
        #expect(try await store.calls.toolExecutions(callID: ids[0]).map(\.tool) == ["get_menu", "check_availability"])
        #expect(try await store.calls.metrics(callID: ids[0]).map(\.value) == [640, 4])
        #expect(try await store.calls.toolExecutions(callID: "none").isEmpty)
        #expect(try await store.calls.metrics(callID: ids[1]).isEmpty)
    }

    /// Tuesday 2026-12-08: 4 at 19:00, 6 at 19:30, 2 at 20:15 then cancelled, and 3 on the next day.
    func bookedTuesday() async throws -> TestStore {
        let store = try TestStore()
        let tuesday = LocalDate("2026-12-08")!
        for (name, party, time) in [("Ada", 4, "19:00"), ("Grace", 6, "19:30"), ("Alan", 2, "20:15")] {
            _ = try await store.book.create(
                .init(
                    name: name, phone: nil, partySize: party, date: tuesday, time: LocalTime(time)!, source: .staff),
                actor: "staff")
        }
        _ = try await store.book.create(
            .init(
                name: "Edsger", phone: nil, partySize: 3, date: tuesday.adding(days: 1), time: LocalTime("17:00")!,
                source: .staff), actor: "staff")
        let alan = try await store.book.reservations(on: tuesday).first { $0.name == "Alan" }!
        _ = try await store.book.cancel(id: alan.id, actor: "staff")
        return store
    }

    @Test("a day's reservations, all or by status, in start order")
    func reservationsByStatus() async throws {
        let store = try await bookedTuesday()
        let tuesday = LocalDate("2026-12-08")!
        #expect(try await store.book.reservations(on: tuesday, status: nil).map(\.name) == ["Ada", "Grace", "Alan"])
        #expect(try await store.book.reservations(on: tuesday, status: .confirmed).map(\.name) == ["Ada", "Grace"])
        #expect(try await store.book.reservations(on: tuesday, status: .cancelled).map(\.name) == ["Alan"])
        #expect(try await store.book.reservations(on: tuesday, status: .seated).isEmpty)
        #expect(
            try await store.book.reservations(on: tuesday.adding(days: 1), status: .confirmed).map(\.name) == [
                "Edsger"
            ])
    }

    @Test("covers: every slot of the day, guests seated for their dining time against the seats")
    func covers() async throws {
        let store = try await bookedTuesday()
        let covers = try await store.book.covers(on: LocalDate("2026-12-08")!)
        // 17:00 to 21:45 every 15 minutes (the last seating is a slot before closing).
        #expect(covers.count == 20)
        #expect(covers.first?.time == LocalTime("17:00") && covers.last?.time == LocalTime("21:45"))
        #expect(covers.allSatisfy { $0.seats == 20 })
        let byTime = Dictionary(uniqueKeysWithValues: covers.map { ($0.time.description, $0.covers) })
        #expect(byTime["18:45"] == 0)
        #expect(byTime["19:00"] == 4 && byTime["19:15"] == 4)
        #expect(byTime["19:30"] == 10 && byTime["20:15"] == 10)  // Alan's cancelled 2 hold nothing
        #expect(byTime["20:30"] == 6 && byTime["20:45"] == 6)  // Ada's 90 minutes are over
        #expect(byTime["21:00"] == 0)
        let total = covers.map(\.covers).reduce(0, +)
        #expect(total == 60)  // 4 for two slots, 10 for four, 6 for two

        // The same count the booking rule uses: 10 more fit at 19:30, 11 do not.
        let policy = store.book.availability.policy
        let held = try await store.book.reservations(on: LocalDate("2026-12-08")!)
        let start = LocalDate("2026-12-08")!.instant(at: LocalTime("19:30")!, in: policy.timeZone).unixMilliseconds
        #expect(store.book.availability.seatsHeld(from: start, to: start + 90 * 60_000, holding: held) == 10)

        let json = String(decoding: try JSONEncoder().encode(covers[8]), as: UTF8.self)
        #expect(json.contains(#""time":"19:00""#) && json.contains(#""covers":4"#) && json.contains(#""seats":20"#))

        // A closed day has no slots.
        #expect(try await store.book.covers(on: LocalDate("2026-12-07")!).isEmpty)
    }
}
