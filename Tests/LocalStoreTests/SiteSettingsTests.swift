import Foundation
import GRDB
import LocalStore
import Sync
import Testing

/// Headquarters' booking settings over the box's configuration.
@Suite("Booking settings from headquarters")
struct SiteSettingsTests {
    @Test("set fields replace the configuration's, missing ones keep it, and bookings follow at once")
    func overlay() async throws {
        let store = try TestStore()
        let policies = ReservationPolicySource(configured: testPolicy)
        let book = ReservationBook(database: store.database, policies: policies)
        let tuesday = LocalDate("2026-12-08")!
        let seven = LocalTime("19:00")!
        #expect(try await book.check(date: tuesday, time: seven, partySize: 8).isAvailable)

        try policies.apply(
            SiteSettings(
                openingHours: ["2": ["18:00-21:00"], "1": []], closedDates: ["2026-12-15"], seatsPerSlot: 6,
                maxPartySize: 6, diningMinutes: 120, version: 2))
        let now = policies.current
        #expect(now.openingHours[2] == [ReservationPolicy.Period("18:00-21:00")!])
        #expect(now.openingHours[3] == nil, "the week is replaced whole")
        #expect(now.closedDates == [LocalDate("2026-12-15")!])
        #expect(now.seatsPerSlot == 6 && now.maxPartySize == 6 && now.diningMinutes == 120)
        #expect(now.timeZone == testPolicy.timeZone && now.slotMinutes == testPolicy.slotMinutes)
        // The same book now refuses what it took a moment ago.
        let decision = try await book.check(date: tuesday, time: seven, partySize: 8)
        #expect(!decision.isAvailable)
        #expect(
            !(try await book.check(date: LocalDate("2026-12-15")!, time: seven, partySize: 2))
                .isAvailable)

        // Only some fields: the rest is the configuration again, not the previous settings.
        try policies.apply(SiteSettings(seatsPerSlot: 12, version: 3))
        #expect(policies.current.openingHours == testPolicy.openingHours)
        #expect(policies.current.seatsPerSlot == 12)
    }

    @Test(
        "settings that cannot be used change nothing and name the field",
        arguments: [
            (SiteSettings(openingHours: ["8": ["17:00-22:00"]]), "opening_hours"),
            (SiteSettings(openingHours: ["2": ["22:00-17:00"]]), "opening_hours[2]"),
            (SiteSettings(closedDates: ["25/12/2026"]), "closed_dates"),
            (SiteSettings(seatsPerSlot: 0), "seats_per_slot"),
            (SiteSettings(maxPartySize: -1), "max_party_size"),
            (SiteSettings(diningMinutes: 5), "dining_minutes"),
        ])
    func invalid(settings: SiteSettings, field: String) throws {
        let policies = ReservationPolicySource(configured: testPolicy)
        try policies.apply(SiteSettings(seatsPerSlot: 30, version: 1))
        #expect {
            try policies.apply(settings)
        } throws: { ($0 as? SiteSettingsError)?.description.contains(field) == true }
        #expect(policies.current.seatsPerSlot == 30, "the previous settings stay in force")
    }

    @Test("the stored settings keep the newest version")
    func stored() async throws {
        let store = try TestStore()
        let settings = SiteSettingsStore(database: store.database)
        #expect(try await settings.current() == nil)
        try await store.database.write { db in
            try SiteSettingsStore.save(SiteSettings(seatsPerSlot: 10, version: 2), changedAt: 5, in: db)
            try SiteSettingsStore.save(SiteSettings(seatsPerSlot: 99, version: 1), changedAt: 6, in: db)
        }
        #expect(try await settings.current()?.seatsPerSlot == 10)
        #expect(try await store.count("outbox") == 0, "settings never go back up")
    }
}
