import Foundation
import GRDB
import LocalStore
import Sync
import Testing

/// The text confirmation queue: written in the booking's own transaction, never for a number that
/// said STOP, waiting for consent when asked to, due in order, and postponed on a failure.
@Suite("Text confirmations queue")
struct TextConfirmationsTests {
    static let caller = "+15551234567"

    static func confirmation(_ kind: TextConfirmation.Kind, consented: Bool = true, callID: String? = nil)
        -> TextConfirmation
    {
        TextConfirmation(kind: kind, to: caller, language: "en", callID: callID, consented: consented) {
            "\(kind.rawValue) for \($0.partySize) (\($0.id))"
        }
    }

    static func request(_ time: String = "19:00") -> ReservationBook.Request {
        .init(
            name: "Ada Lovelace", phone: caller, partySize: 4, date: LocalDate("2026-12-02")!,
            time: LocalTime(time)!, source: .phoneAgent)
    }

    struct Queued: Sendable {
        let kind: String
        let status: String
        let to: String
        let body: String
    }

    static func rows(_ store: TestStore) async throws -> [Queued] {
        try await store.database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM text_confirmations ORDER BY created_at, kind").map {
                Queued(kind: $0["kind"], status: $0["status"], to: $0["to_phone"], body: $0["body"])
            }
        }
    }

    @Test("a booking, a change and a cancellation each queue their text, with the reservation as stored")
    func queuedWithTheChange() async throws {
        let store = try TestStore()
        let booked = try await store.book.create(
            Self.request(), actor: "test", confirmation: Self.confirmation(.booked))
        let changed = try await store.book.update(
            id: booked.id, .init(partySize: 6), actor: "test", confirmation: Self.confirmation(.changed))
        _ = try await store.book.cancel(id: booked.id, actor: "test", confirmation: Self.confirmation(.cancelled))
        let rows = try await Self.rows(store)
        #expect(rows.count == 3)
        #expect(rows.map(\.kind).sorted() == ["booked", "cancelled", "changed"])
        #expect(rows.allSatisfy { $0.status == "pending" && $0.to == Self.caller })
        #expect(rows.contains { $0.body == "booked for 4 (\(booked.id))" })
        #expect(rows.contains { $0.body == "changed for 6 (\(changed.id))" })
        let due = try await TextConfirmations(database: store.database).due()
        #expect(due.count == 3)
    }

    @Test("a booking that is refused queues nothing: the text shares its transaction")
    func refusedBooking() async throws {
        let store = try TestStore()
        await #expect(throws: ReservationError.self) {
            // 23:00 is after closing.
            try await store.book.create(Self.request("23:00"), actor: "test", confirmation: Self.confirmation(.booked))
        }
        #expect(try await Self.rows(store).isEmpty)
        #expect(try await store.count("reservations") == 0)
    }

    @Test("a number that said STOP gets nothing; START lets texts come again; STOP drops what was queued")
    func optOut() async throws {
        let store = try TestStore()
        let queue = TextConfirmations(database: store.database)
        _ = try await store.book.create(Self.request(), actor: "test", confirmation: Self.confirmation(.booked))
        try await queue.optOut(Self.caller)
        #expect(try await queue.isOptedOut(Self.caller))
        #expect(try await Self.rows(store).map(\.status) == ["skipped"])
        _ = try await store.book.create(Self.request("20:00"), actor: "test", confirmation: Self.confirmation(.booked))
        #expect(try await Self.rows(store).count == 1)
        try await queue.optIn(Self.caller)
        _ = try await store.book.create(Self.request("20:00"), actor: "test", confirmation: Self.confirmation(.booked))
        #expect(try await Self.rows(store).count == 2)
        #expect(try await queue.due().count == 1)
    }

    @Test("a text waiting for consent is not due; consent sends it; a call that ends without it drops it")
    func consent() async throws {
        let store = try TestStore()
        let queue = TextConfirmations(database: store.database)
        _ = try await store.book.create(
            Self.request(), actor: "test", confirmation: Self.confirmation(.booked, consented: false, callID: "call-1"))
        _ = try await store.book.create(
            Self.request("20:00"), actor: "test",
            confirmation: Self.confirmation(.booked, consented: false, callID: "call-2"))
        #expect(try await queue.due().isEmpty)
        #expect(try await queue.awaitingConsent(callID: "call-1") == 1)
        try await queue.consent(callID: "call-1")
        try await queue.dropUnconsented(callID: "call-2")
        #expect(try await queue.due().count == 1)
        #expect(try await Self.rows(store).map(\.status).sorted() == ["pending", "skipped"])
    }

    @Test("sent once; a failure postpones it until its time; a refusal skips it")
    func sendingStates() async throws {
        let store = try TestStore()
        let queue = TextConfirmations(database: store.database)
        for time in ["19:00", "19:30", "20:00"] {
            _ = try await store.book.create(Self.request(time), actor: "test", confirmation: Self.confirmation(.booked))
        }
        let due = try await queue.due()
        #expect(due.count == 3)
        try await queue.markSent(due[0].id, providerID: "SM1")
        try await queue.markRetry(due[1].id, reason: "503", retryAt: queue.nowMilliseconds + 60_000)
        try await queue.markSkipped(due[2].id, reason: "landline")
        #expect(try await queue.due().isEmpty)
        store.clock.set(referenceNow.addingTimeInterval(61))
        let again = try await queue.due()
        #expect(again.map(\.id) == [due[1].id])
        #expect(again.first?.attempts == 1)
    }
}
