import Foundation
import GRDB
import LocalStore
import Sync
import Testing

/// The stamps of the box's changes: later than everything sent or received before, on headquarters'
/// time once it is known.
@Suite("Hybrid logical clock")
struct HybridLogicalClockTests {
    func reservation(_ id: String, at milliseconds: Int64) -> Reservation {
        Reservation(
            id: id, name: "Ada", phone: "+15551234567", partySize: 2, startsAt: 1_800_000_000_000,
            durationMinutes: 90, source: .phoneAgent, version: 1, createdAt: milliseconds, updatedAt: milliseconds)
    }

    func stamped(_ store: TestStore, _ id: String, at milliseconds: Int64) async throws -> Int64 {
        let row = reservation(id, at: milliseconds)
        try await store.database.write { db in
            try row.insert(db)
            try Outbox.enqueueUpsert(.reservation(row), at: milliseconds, in: db)
        }
        let entry = try #require(try await store.outbox().last)
        let change = try JSONDecoder().decode(SyncChange.self, from: Data(entry.payload.utf8))
        return change.changedAt
    }

    @Test("stamps keep growing when the wall clock steps back, and follow a change received from headquarters")
    func monotonic() async throws {
        let store = try TestStore()
        #expect(try await stamped(store, "a", at: 1_000_000) == 1_000_000)
        // An NTP correction puts the clock back ten seconds: the next change is still later.
        #expect(try await stamped(store, "b", at: 990_000) == 1_000_001)
        // A change made at headquarters, stamped ahead of this box's clock, comes down.
        try await store.database.write { db in try HybridLogicalClock.observe(2_000_000, physical: 1_000_500, in: db) }
        #expect(try await stamped(store, "c", at: 1_001_000) == 2_000_001)
        // A stamp from the past changes nothing.
        try await store.database.write { db in try HybridLogicalClock.observe(5, physical: 1_001_000, in: db) }
        #expect(try await stamped(store, "d", at: 3_000_000) == 3_000_000)
    }

    @Test("a box whose clock is an hour fast stamps on headquarters' time once it has measured it")
    func headquartersOffset() async throws {
        let store = try TestStore()
        let hour: Int64 = 3_600_000
        let boxNow: Int64 = 1_800_000_000_000
        try await store.database.write { db in
            try HybridLogicalClock.setHeadquartersOffset(-hour, physical: boxNow, in: db)
        }
        #expect(try await stamped(store, "a", at: boxNow) == boxNow - hour)
    }
}
