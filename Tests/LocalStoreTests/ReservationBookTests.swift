import Foundation
import GRDB
import Sync
import Testing

@testable import LocalStore

@Suite("Reservation book")
struct ReservationBookTests {
    let date = LocalDate("2026-12-08")!

    func request(party: Int = 4, time: String = "19:00", phone: String? = "+15551234567")
        -> ReservationBook.Request
    {
        .init(
            name: "Ada Lovelace", phone: phone, partySize: party, date: date, time: LocalTime(time)!,
            notes: "window", source: .phoneAgent, callID: nil)
    }

    @Test("a booking writes the reservation, the customer, their outbox rows and an audit entry")
    func createWritesEverything() async throws {
        let store = try TestStore()
        let reservation = try await store.book.create(request(), actor: "agent")

        let stored = try #require(try await store.book.reservation(id: reservation.id))
        #expect(stored == reservation)
        #expect(stored.status == .confirmed)
        #expect(stored.startsAt == date.instant(at: LocalTime("19:00")!, in: testPolicy.timeZone).unixMilliseconds)
        let customer = try #require(
            try await CustomerDirectory(database: store.database).customer(phone: "+15551234567"))
        #expect(customer.name == "Ada Lovelace")
        #expect(stored.customerID == customer.id)

        let outbox = try await store.outbox()
        #expect(outbox.map(\.tableName).sorted() == ["customers", "reservations"])
        let change = try JSONDecoder().decode(
            SyncChange.self, from: Data(try #require(outbox.first { $0.tableName == "reservations" }).payload.utf8))
        #expect(change.row == .reservation(reservation))
        #expect(change.version == 1)
        #expect(outbox.allSatisfy { $0.sentAt == nil })

        let audit = try await store.database.read { db in
            try AuditLog.entries(entity: "reservations", entityID: reservation.id, in: db)
        }
        #expect(audit.map(\.action) == ["reservation.create"])
        #expect(!audit[0].details.contains("Ada"))
    }

    @Test("a refused booking writes nothing at all")
    func refusedWritesNothing() async throws {
        let store = try TestStore()
        await #expect {
            try await store.book.create(request(party: 12), actor: "agent")
        } throws: { ($0 as? ReservationError)?.decision?.reason == .partyTooLarge }
        for table in ["reservations", "customers", "outbox", "audit_log"] {
            #expect(try await store.count(table) == 0, "\(table)")
        }
    }

    @Test("the domain row and its outbox row commit together or not at all")
    func outboxIsAtomic() async throws {
        let store = try TestStore()
        // Make every outbox insert fail, as a full disk or a crash at that moment would.
        try await store.database.pool.write { db in
            try db.execute(
                sql: "CREATE TEMP TRIGGER outbox_fails BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END")
        }
        await #expect(throws: (any Error).self) {
            try await store.book.create(request(), actor: "agent")
        }
        #expect(try await store.count("reservations") == 0)
        #expect(try await store.count("customers") == 0)
        #expect(try await store.count("audit_log") == 0)

        try await store.database.pool.write { db in try db.execute(sql: "DROP TRIGGER outbox_fails") }
        let reservation = try await store.book.create(request(), actor: "agent")
        #expect(try await store.count("reservations") == 1)
        #expect(try await store.outbox().contains { $0.rowID == reservation.id })
    }

    @Test("the last seats cannot be sold twice, even to concurrent callers")
    func noOverbooking() async throws {
        let store = try TestStore()
        let book = store.book
        // 20 seats; ten concurrent parties of 4 want the same time: exactly five get it.
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask {
                    let request = ReservationBook.Request(
                        name: "Guest \(index)", phone: nil, partySize: 4, date: date, time: LocalTime("19:00")!,
                        source: .phoneAgent)
                    return (try? await book.create(request, actor: "agent")) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 5)
        #expect(try await store.count("reservations") == 5)
    }

    @Test("a change re-checks availability without counting the party's own seats, and bumps the version")
    func update() async throws {
        let store = try TestStore()
        let first = try await store.book.create(request(party: 4), actor: "agent")
        _ = try await store.book.create(request(party: 8, phone: nil), actor: "agent")
        _ = try await store.book.create(request(party: 8, phone: nil), actor: "agent")
        // All 20 seats are taken at 19:00: one more guest is refused, the same party size is not.
        await #expect {
            try await store.book.update(id: first.id, .init(partySize: 5), actor: "agent")
        } throws: { ($0 as? ReservationError)?.decision?.reason == .full }
        _ = try await store.book.update(id: first.id, .init(time: LocalTime("19:00")!, partySize: 4), actor: "agent")
        let moved = try await store.book.update(
            id: first.id, .init(time: LocalTime("20:45")!, notes: "birthday"), actor: "agent")
        #expect(moved.version == 3)
        #expect(moved.notes == "birthday")
        #expect(LocalTime(Date(unixMilliseconds: moved.startsAt), in: testPolicy.timeZone).description == "20:45")
        let versions = try await store.outbox().filter { $0.rowID == first.id }.map(\.version)
        #expect(versions == [1, 2, 3])
    }

    @Test("a cancellation frees the seats and is queued; cancelling twice is refused")
    func cancel() async throws {
        let store = try TestStore()
        let big = try await store.book.create(request(party: 8), actor: "agent")
        _ = try await store.book.create(request(party: 8, phone: nil), actor: "agent")
        #expect(try await store.book.check(date: date, time: LocalTime("19:00")!, partySize: 8).reason == .full)

        let cancelled = try await store.book.cancel(id: big.id, actor: "agent")
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.version == 2)
        #expect(try await store.book.check(date: date, time: LocalTime("19:00")!, partySize: 8).isAvailable)
        await #expect {
            try await store.book.cancel(id: big.id, actor: "agent")
        } throws: { ($0 as? ReservationError)?.code == .alreadyCancelled }
        await #expect {
            try await store.book.cancel(id: "nope", actor: "agent")
        } throws: { ($0 as? ReservationError)?.code == .notFound }
    }

    @Test("upcoming reservations by phone, with and without a date")
    func upcomingByPhone() async throws {
        let store = try TestStore()
        let first = try await store.book.create(request(), actor: "agent")
        var later = request()
        later.date = date.adding(days: 2)
        let second = try await store.book.create(later, actor: "agent")
        #expect(try await store.book.upcoming(phone: "+1 555 123 4567").map(\.id) == [first.id, second.id])
        #expect(try await store.book.upcoming(phone: "+15551234567", on: later.date).map(\.id) == [second.id])
        #expect(try await store.book.upcoming(phone: "+15550000000").isEmpty)
    }

    @Test("bad names and phone numbers are refused with a clear error")
    func badInput() async throws {
        let store = try TestStore()
        var noName = request()
        noName.name = "   "
        await #expect { try await store.book.create(noName, actor: "agent") } throws: {
            ($0 as? ReservationError)?.code == .invalidName
        }
        await #expect { try await store.book.create(request(phone: "555-1234"), actor: "agent") } throws: {
            ($0 as? ReservationError)?.code == .invalidPhone
        }
        #expect(try await store.count("reservations") == 0)
    }
}

@Suite("Reservation book with long bookings")
struct LongBookingTests {
    @Test("a booking longer than the dining time, started hours earlier, still holds its seats")
    func longBookingCounts() async throws {
        let store = try TestStore()
        let date = LocalDate("2026-12-08")!
        // A party of 20 from 16:00 for four hours, as headquarters might send (an event).
        let event = Reservation(
            id: "event", name: "Company dinner", partySize: 20,
            startsAt: date.instant(at: LocalTime("16:00")!, in: testPolicy.timeZone).unixMilliseconds,
            durationMinutes: 240, source: .headquarters, createdAt: 0, updatedAt: 0)
        try await store.database.write { db in try event.insert(db) }
        #expect(try await store.book.check(date: date, time: LocalTime("19:00")!, partySize: 2).reason == .full)
        #expect(try await store.book.check(date: date, time: LocalTime("20:00")!, partySize: 2).isAvailable)
    }
}
