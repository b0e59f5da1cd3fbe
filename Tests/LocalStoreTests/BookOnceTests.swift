import Foundation
import GRDB
import StoreTestSupport
import Sync
import Testing

@testable import LocalStore

/// One request, one table: the same booking asked again by the same call, or by the same phone
/// minutes later, is answered with the booking already made; nothing else is written.
@Suite("Booking once")
struct BookOnceTests {
    let date = LocalDate("2026-12-08")!

    func request(
        name: String = "Ana", party: Int = 4, time: String = "19:00", phone: String? = "+15551234567",
        callID: String? = nil, additionalTable: Bool = false
    ) -> ReservationBook.Request {
        .init(
            name: name, phone: phone, partySize: party, date: date, time: LocalTime(time)!, source: .phoneAgent,
            callID: callID, additionalTable: additionalTable)
    }

    func call(_ store: TestStore, sid: String) async throws -> String {
        try await store.calls.inbound(callSid: sid).id
    }

    @Test("the same call asking twice for the same table gets one row, one outbox row, one audit entry")
    func sameCallTwice() async throws {
        let store = try TestStore()
        let callID = try await call(store, sid: "CA00000000000000000000000000000b01")
        let first = try await store.book.bookOnce(request(callID: callID), actor: "agent")
        // Another spelling of the same name, and no phone: still this call's booking.
        let again = try await store.book.bookOnce(request(name: "ana", phone: nil, callID: callID), actor: "agent")
        #expect(!first.alreadyBooked)
        #expect(again.alreadyBooked)
        #expect(again.reservation == first.reservation)
        #expect(try await store.count("reservations") == 1)
        #expect(try await store.outbox().filter { $0.tableName == "reservations" }.count == 1)
        let creations = try await store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = 'reservation.create'")
        }
        #expect(creations == 1)
    }

    @Test("requests at the same moment still make one row")
    func concurrentRequests() async throws {
        let store = try TestStore()
        let callID = try await call(store, sid: "CA00000000000000000000000000000b02")
        let book = store.book
        let bookings = try await withThrowingTaskGroup(of: ReservationBook.Booking.self) { group in
            for _ in 0..<8 {
                group.addTask { try await book.bookOnce(request(callID: callID), actor: "agent") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(try await store.count("reservations") == 1)
        #expect(bookings.filter { !$0.alreadyBooked }.count == 1)
        #expect(Set(bookings.map(\.reservation.id)).count == 1)
    }

    @Test("the same phone booking the same slot from another call within 10 minutes gets the first booking")
    func samePhoneAnotherCall() async throws {
        let store = try TestStore()
        let first = try await call(store, sid: "CA00000000000000000000000000000b03")
        let second = try await call(store, sid: "CA00000000000000000000000000000b04")
        let booked = try await store.book.bookOnce(request(callID: first), actor: "agent")
        store.clock.set(referenceNow.addingTimeInterval(9 * 60))
        let repeated = try await store.book.bookOnce(request(party: 2, callID: second), actor: "agent")
        #expect(repeated.alreadyBooked)
        #expect(repeated.reservation.id == booked.reservation.id)
        #expect(try await store.count("reservations") == 1)
    }

    @Test("a second table asked for as such, a later call, another slot or another phone is booked")
    func genuineSecondBookings() async throws {
        let store = try TestStore()
        _ = try await store.book.bookOnce(request(), actor: "agent")
        let additional = try await store.book.bookOnce(request(additionalTable: true), actor: "agent")
        let otherSlot = try await store.book.bookOnce(request(time: "20:00"), actor: "agent")
        let otherPhone = try await store.book.bookOnce(request(phone: "+15559876543"), actor: "agent")
        store.clock.set(referenceNow.addingTimeInterval(11 * 60))
        let later = try await store.book.bookOnce(request(), actor: "agent")
        #expect([additional, otherSlot, otherPhone, later].allSatisfy { !$0.alreadyBooked })
        #expect(try await store.count("reservations") == 5)
    }

    @Test("a cancelled booking is not an earlier booking: booking again makes a new one")
    func afterCancellation() async throws {
        let store = try TestStore()
        let first = try await store.book.bookOnce(request(), actor: "agent")
        _ = try await store.book.cancel(id: first.reservation.id, actor: "agent")
        #expect(try await store.book.recentlyCancelled(phone: "+15551234567")?.id == first.reservation.id)
        let again = try await store.book.bookOnce(request(), actor: "agent")
        #expect(!again.alreadyBooked)
        #expect(again.reservation.id != first.reservation.id)
        store.clock.set(referenceNow.addingTimeInterval(11 * 60))
        #expect(try await store.book.recentlyCancelled(phone: "+15551234567") == nil)
    }

    @Test("a message left twice by the same call is stored once")
    func messageOnce() async throws {
        let store = try TestStore()
        let callID = try await call(store, sid: "CA00000000000000000000000000000b05")
        let board = StaffMessageBoard(database: store.database)
        let first = try await board.leaveOnce(
            message: "Call me back", callbackPhone: nil, callID: callID, language: "en")
        let again = try await board.leaveOnce(
            message: "Call me back", callbackPhone: nil, callID: callID, language: "en")
        let other = try await board.leaveOnce(
            message: "Also: a cake", callbackPhone: nil, callID: callID, language: "en")
        #expect(!first.alreadySaved && again.alreadySaved && !other.alreadySaved)
        #expect(again.message.id == first.message.id)
        #expect(try await store.count("staff_messages") == 2)
    }
}
