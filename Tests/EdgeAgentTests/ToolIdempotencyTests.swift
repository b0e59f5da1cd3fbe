import Foundation
import GRDB
import LocalStore
import Sync
import Testing

@testable import EdgeAgent

/// The model asking again for what it already did (a retry, a repeated turn) changes nothing: each
/// side-effecting tool answers with what was done the first time, and says so.
@Suite("Tools carried out once")
struct ToolIdempotencyTests {
    static let booking = #"{"name":"Ana","party_size":4,"date":"2026-12-02","time":"19:00"}"#

    @Test("create_reservation asked twice in a call returns the first booking with already_booked")
    func createTwice() async throws {
        let bench = try await ToolBench()
        let first = await bench.call("create_reservation", Self.booking)
        let again = await bench.call(
            "create_reservation", #"{"name":"ana","party_size":4,"date":"2026-12-02","time":"19:00","notes":"window"}"#)
        #expect(first["already_booked"] == nil)
        #expect(again["already_booked"] == true)
        #expect(again["reservation_id"] == first["reservation_id"])
        #expect(try await bench.reservations().count == 1)
        // Both runs are logged; only one wrote a booking.
        #expect(try await bench.executions().filter { $0.tool == "create_reservation" }.count == 2)
    }

    @Test("a second table is booked only when the model says additional_table")
    func additionalTable() async throws {
        let bench = try await ToolBench()
        _ = await bench.call("create_reservation", Self.booking)
        let second = await bench.call(
            "create_reservation", #"{"name":"Ana","party_size":2,"date":"2026-12-02","time":"19:00"}"#)
        #expect(second["already_booked"] == true)
        let extra = await bench.call(
            "create_reservation",
            #"{"name":"Ana","party_size":2,"date":"2026-12-02","time":"19:00","additional_table":true}"#)
        #expect(extra["already_booked"] == nil)
        #expect(extra["reservation_id"] != second["reservation_id"])
        #expect(try await bench.reservations().map(\.partySize).sorted() == [2, 4])
        let wrongType = await bench.call(
            "create_reservation",
            #"{"name":"Ana","party_size":2,"date":"2026-12-02","time":"19:00","additional_table":"yes"}"#)
        #expect(wrongType["error"]?.stringValue?.contains("additional_table: must be true or false") == true)
    }

    @Test("update_reservation asked again writes nothing more and says already_updated")
    func updateTwice() async throws {
        let bench = try await ToolBench()
        _ = await bench.call("create_reservation", Self.booking)
        let moved = await bench.call("update_reservation", #"{"time":"20:00"}"#)
        let again = await bench.call("update_reservation", #"{"time":"20:00"}"#)
        #expect(moved["time"] == "20:00" && moved["already_updated"] == nil)
        #expect(again["time"] == "20:00" && again["already_updated"] == true)
        let reservation = try #require(try await bench.reservations().first)
        #expect(reservation.version == 2)
        let updates = try await bench.app.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = 'reservation.update'")
        }
        #expect(updates == 1)
    }

    @Test("cancel_reservation asked again says already_cancelled, by phone or by id")
    func cancelTwice() async throws {
        let bench = try await ToolBench()
        let booked = await bench.call("create_reservation", Self.booking)
        let cancelled = await bench.call("cancel_reservation", "{}")
        #expect(cancelled["status"] == "cancelled" && cancelled["already_cancelled"] == nil)
        let byPhone = await bench.call("cancel_reservation", "{}")
        #expect(byPhone["already_cancelled"] == true)
        #expect(byPhone["reservation_id"] == booked["reservation_id"])
        let byID = await bench.call(
            "cancel_reservation", #"{"reservation_id":\#(booked["reservation_id"]!.jsonText)}"#)
        #expect(byID["already_cancelled"] == true)
        let cancels = try await bench.app.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = 'reservation.cancel'")
        }
        #expect(cancels == 1)
        // A phone with nothing booked or cancelled still gets the plain answer.
        let nothing = await bench.call("cancel_reservation", #"{"phone":"+15550002222"}"#)
        #expect(nothing["error"]?.stringValue?.contains("no upcoming reservation") == true)
    }

    @Test("take_message with the same words twice in a call stores one message")
    func messageTwice() async throws {
        let bench = try await ToolBench()
        let first = await bench.call("take_message", #"{"message":"Please call me about a birthday cake"}"#)
        let again = await bench.call("take_message", #"{"message":"Please call me about a birthday cake"}"#)
        #expect(again["already_saved"] == true)
        #expect(again["message_id"] == first["message_id"])
        let stored = try await bench.app.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM staff_messages")
        }
        #expect(stored == 1)
    }
}
