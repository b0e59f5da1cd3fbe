import Foundation
import Sync
import Testing

@testable import LocalStore

@Suite("Availability rules")
struct AvailabilityTests {
    let availability = Availability(policy: testPolicy)
    let tuesday = LocalDate("2026-12-08")!  // a Tuesday, a week after referenceNow

    func booking(_ time: String, party: Int, on date: LocalDate? = nil, status: Reservation.Status = .confirmed)
        -> Reservation
    {
        let start = (date ?? tuesday).instant(at: LocalTime(time)!, in: testPolicy.timeZone).unixMilliseconds
        return Reservation(
            id: UUID().uuidString, name: "x", partySize: party, startsAt: start, durationMinutes: 90, status: status,
            source: .staff, createdAt: 0, updatedAt: 0)
    }

    func decide(
        _ time: String, party: Int, on date: LocalDate? = nil, existing: [Reservation] = [], now: Date = referenceNow
    ) -> AvailabilityDecision {
        availability.decide(
            date: date ?? tuesday, time: LocalTime(time)!, partySize: party, existing: existing, now: now)
    }

    @Test("an open slot with room is available")
    func available() {
        #expect(decide("19:00", party: 4).isAvailable)
    }

    @Test("a full slot is refused with the nearest free times")
    func fullSlot() {
        let existing = [booking("19:00", party: 8), booking("19:00", party: 8), booking("18:00", party: 2)]
        // 18 seats held at 19:00; a party of 4 does not fit there.
        let decision = decide("19:00", party: 4, existing: existing)
        #expect(decision.reason == .full)
        #expect(decision.alternatives.count == 3)
        // Only 19:00-19:30 is too full for 4 (18 of 20 seats held), so every start from 17:45 to 19:15 is out.
        for alternative in decision.alternatives {
            #expect(
                decide(alternative.time.description, party: 4, on: alternative.date, existing: existing).isAvailable)
        }
        #expect(decision.alternatives.map(\.time.description) == ["19:30", "19:45", "20:00"])
        // A party of 2 still fits beside them.
        #expect(decide("19:00", party: 2, existing: existing).isAvailable)
    }

    @Test("cancelled reservations hold no seats")
    func cancelledFreeSeats() {
        let existing = [booking("19:00", party: 8, status: .cancelled), booking("19:00", party: 8, status: .cancelled)]
        let held = [booking("19:00", party: 8), booking("19:00", party: 8)]
        #expect(decide("19:00", party: 8, existing: existing + held).reason == .full)
        #expect(decide("19:00", party: 8, existing: existing).isAvailable)
    }

    @Test("a closed weekday and a closed date are refused, and alternatives come from open days")
    func closedDay() {
        let monday = LocalDate("2026-12-07")!
        let monday_ = decide("19:00", party: 2, on: monday)
        #expect(monday_.reason == .closed)
        #expect(monday_.alternatives.first?.date == tuesday)
        #expect(monday_.alternatives.first?.time.description == "19:00")
        let christmas = LocalDate("2026-12-25")!  // a Friday, closed by date
        #expect(decide("19:00", party: 2, on: christmas).reason == .closed)
    }

    @Test("a party larger than the maximum is refused without alternatives")
    func partyTooLarge() {
        let decision = decide("19:00", party: 9)
        #expect(decision.reason == .partyTooLarge)
        #expect(decision.alternatives.isEmpty)
        #expect(decide("19:00", party: 8).isAvailable)
        #expect(decide("19:00", party: 0).reason == .invalidPartySize)
    }

    @Test(
        "slot boundaries: opening, last seating, off-grid times",
        arguments: [
            ("16:45", AvailabilityDecision.Reason?.some(.outsideOpeningHours)),
            ("17:00", nil),
            ("21:45", nil),  // last seating: one slot before closing
            ("22:00", .outsideOpeningHours),
            ("19:10", .notOnSlot),
            ("19:15", nil),
        ])
    func slotBoundaries(time: String, reason: AvailabilityDecision.Reason?) {
        #expect(decide(time, party: 2).reason == reason)
    }

    @Test("a party leaving exactly when the next slot starts frees its seats for it")
    func diningBoundary() {
        let existing = [booking("17:00", party: 8), booking("17:00", party: 8), booking("17:00", party: 4)]
        #expect(decide("18:15", party: 1, existing: existing).reason == .full)  // 17:00 + 90 min = 18:30
        #expect(decide("18:30", party: 8, existing: existing).isAvailable)
    }

    @Test("bookings in the past are refused")
    func past() {
        let evening = ISO8601DateFormatter().date(from: "2026-12-08T23:20:00Z")!  // 18:20 in New York
        #expect(decide("17:00", party: 2, now: evening).reason == .tooSoon)
        #expect(decide("18:15", party: 2, now: evening).reason == .tooSoon)
        #expect(decide("18:30", party: 2, now: evening).isAvailable)
        let decision = decide("17:00", party: 2, now: evening)
        #expect(decision.alternatives.first?.time.description == "18:30")
    }

    @Test("slots of a day follow the opening periods")
    func slotsOfADay() {
        let sunday = LocalDate("2026-12-06")!
        let slots = testPolicy.slots(on: sunday).map(\.description)
        #expect(slots.first == "12:00")
        #expect(slots.last == "14:45")
        #expect(slots.count == 12)
        #expect(testPolicy.slots(on: LocalDate("2026-12-07")!).isEmpty)
    }
}

@Suite("Local dates and times")
struct LocalDateTests {
    @Test("parsing refuses impossible dates and times")
    func parsing() {
        #expect(LocalDate("2026-02-28") != nil)
        #expect(LocalDate("2026-02-29") == nil)
        #expect(LocalDate("2028-02-29") != nil)
        #expect(LocalDate("2026-13-01") == nil)
        #expect(LocalDate("26-01-01") == nil)
        #expect(LocalTime("23:59")?.minutesSinceMidnight == 1439)
        #expect(LocalTime("24:00")?.minutesSinceMidnight == 1440)
        #expect(LocalTime("24:01") == nil)
        #expect(LocalTime("7:00") == nil)
    }

    @Test("weekday and time-zone conversion")
    func conversion() {
        let date = LocalDate("2026-12-01")!
        #expect(date.isoWeekday == 2)
        #expect(LocalDate("2026-12-06")!.isoWeekday == 7)
        let instant = date.instant(at: LocalTime("19:30")!, in: TimeZone(identifier: "America/New_York")!)
        #expect(ISO8601DateFormatter().string(from: instant) == "2026-12-02T00:30:00Z")
        #expect(date.adding(days: 31).description == "2027-01-01")
    }
}

@Suite("Availability edge cases")
struct AvailabilityEdgeCaseTests {
    @Test("seats are counted at the true peak, not per slot")
    func exactPeak() {
        var policy = testPolicy
        policy.slotMinutes = 60
        policy.seatsPerSlot = 40
        policy.maxPartySize = 20
        let availability = Availability(policy: policy)
        let date = LocalDate("2026-12-08")!
        func booking(_ time: String, _ party: Int) -> Reservation {
            Reservation(
                id: time, name: "x", partySize: party,
                startsAt: date.instant(at: LocalTime(time)!, in: policy.timeZone).unixMilliseconds,
                durationMinutes: 90, source: .staff, createdAt: 0, updatedAt: 0)
        }
        // 20 guests 18:00-19:30 and 20 guests 19:30-21:00: never more than 30 seated with 10 more at 19:00.
        let existing = [booking("18:00", 20), booking("19:30", 20)]
        let decision = availability.decide(
            date: date, time: LocalTime("19:00")!, partySize: 10, existing: existing, now: referenceNow)
        #expect(decision.isAvailable)
        #expect(
            availability.decide(
                date: date, time: LocalTime("19:00")!, partySize: 21, existing: existing, now: referenceNow
            ).reason == .partyTooLarge)
    }

    @Test("a time skipped by the spring daylight-saving change is refused and never offered")
    func springForward() {
        var policy = testPolicy
        policy.openingHours[7] = [.init("00:00-24:00")!]  // 2026-03-08 is a Sunday
        policy.bookingHorizonDays = 400
        let availability = Availability(policy: policy)
        let date = LocalDate("2026-03-08")!
        #expect(!date.exists(LocalTime("02:30")!, in: policy.timeZone))
        #expect(date.exists(LocalTime("03:00")!, in: policy.timeZone))
        let decision = availability.decide(
            date: date, time: LocalTime("02:30")!, partySize: 2, existing: [],
            now: referenceNow.addingTimeInterval(-300 * 86_400))
        #expect(decision.reason == .nonexistentTime)
        #expect(
            !decision.alternatives.contains {
                $0.date == date && ["02:00", "02:15", "02:30", "02:45"].contains($0.time.description)
            })
        // The day is 23 hours long.
        let window = availability.window(for: date...date)
        #expect(window.upperBound - window.lowerBound == 23 * 3_600_000)
    }
}
