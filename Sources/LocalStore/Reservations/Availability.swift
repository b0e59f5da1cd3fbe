public import Foundation
public import Sync

/// The answer to "can a party of N sit down at this time?", with nearby times when it cannot.
public struct AvailabilityDecision: Sendable, Equatable {
    /// Why a time cannot be booked.
    public enum Reason: String, Sendable, Equatable {
        case invalidPartySize = "invalid_party_size"
        case partyTooLarge = "party_too_large"
        case closed
        case outsideOpeningHours = "outside_opening_hours"
        case notOnSlot = "not_on_slot"
        case tooSoon = "too_soon"
        case tooFarAhead = "too_far_ahead"
        case full
        /// The time does not exist that day (skipped by a daylight-saving change).
        case nonexistentTime = "nonexistent_time"
    }

    /// A bookable alternative.
    public struct Alternative: Sendable, Equatable, CustomStringConvertible {
        public let date: LocalDate
        public let time: LocalTime
        public var description: String { "\(date) \(time)" }
    }

    /// Nil when the time is available.
    public let reason: Reason?
    /// Up to three bookable times nearest the one asked for, when it is not available.
    public let alternatives: [Alternative]

    public var isAvailable: Bool { reason == nil }
}

/// Pure availability rules over a ``ReservationPolicy`` and the reservations already held.
///
/// A reservation holds its seats from its start for the policy's dining time; a time is
/// available when, in every slot the new party would sit through, the seats already held plus
/// the party fit in ``ReservationPolicy/seatsPerSlot``.
public struct Availability: Sendable {
    public let policy: ReservationPolicy

    public init(policy: ReservationPolicy) {
        self.policy = policy
    }

    /// How many alternatives a decision offers at most.
    public static let maximumAlternatives = 3

    /// Decides one request. `existing` must contain every seat-holding reservation that may overlap
    /// the asked day (see ``window(for:)``); others are ignored.
    public func decide(
        date: LocalDate, time: LocalTime, partySize: Int, existing: [Reservation], now: Date,
        excluding excludedID: String? = nil
    ) -> AvailabilityDecision {
        let holding = existing.filter { $0.status.holdsSeats && $0.id != excludedID }
        if let reason = rejection(date: date, time: time, partySize: partySize, holding: holding, now: now) {
            let offersAlternatives = ![.invalidPartySize, .partyTooLarge].contains(reason)
            return AvailabilityDecision(
                reason: reason,
                alternatives: offersAlternatives
                    ? alternatives(near: date, time: time, partySize: partySize, holding: holding, now: now) : [])
        }
        return AvailabilityDecision(reason: nil, alternatives: [])
    }

    /// The span of start times (Unix ms) whose reservations can hold seats during `days`, for fetching.
    /// The instants (Unix ms) from the first day's midnight to the midnight after the last day, in the
    /// restaurant's zone (a day is 23 or 25 hours long when the clocks change).
    public func window(for days: ClosedRange<LocalDate>) -> Range<Int64> {
        let midnight = LocalTime(minutesSinceMidnight: 0)!
        let start = days.lowerBound.instant(at: midnight, in: policy.timeZone)
        let end = days.upperBound.adding(days: 1).instant(at: midnight, in: policy.timeZone)
        return start.unixMilliseconds..<end.unixMilliseconds
    }

    /// The days searched for alternatives to a request on `date`.
    public func alternativeDays(from date: LocalDate) -> ClosedRange<LocalDate> {
        date...date.adding(days: 6)
    }

    private func rejection(
        date: LocalDate, time: LocalTime, partySize: Int, holding: [Reservation], now: Date
    ) -> AvailabilityDecision.Reason? {
        guard partySize >= 1 else { return .invalidPartySize }
        guard partySize <= policy.maxPartySize, partySize <= policy.seatsPerSlot else { return .partyTooLarge }
        let periods = policy.periods(on: date)
        guard !periods.isEmpty else { return .closed }
        let lastSeating = { (period: ReservationPolicy.Period) in
            period.closes.minutesSinceMidnight - policy.slotMinutes
        }
        guard
            periods.contains(where: {
                time >= $0.opens && time.minutesSinceMidnight <= lastSeating($0)
            })
        else { return .outsideOpeningHours }
        guard time.minutesSinceMidnight % policy.slotMinutes == 0 else { return .notOnSlot }
        guard date.exists(time, in: policy.timeZone) else { return .nonexistentTime }
        let start = date.instant(at: time, in: policy.timeZone)
        let earliest = now.addingTimeInterval(Double(policy.minimumNoticeMinutes) * 60)
        guard start >= earliest else { return .tooSoon }
        let horizon = LocalDate(now, in: policy.timeZone).adding(days: policy.bookingHorizonDays)
        guard date <= horizon else { return .tooFarAhead }
        guard fits(partySize: partySize, startingAt: start.unixMilliseconds, holding: holding) else { return .full }
        return nil
    }

    /// Whether the party fits at every moment it would sit: the most guests seated at once during
    /// its stay (counted exactly, from each reservation's own start and length) plus the party must
    /// not exceed the seats.
    private func fits(partySize: Int, startingAt start: Int64, holding: [Reservation]) -> Bool {
        let end = start + Int64(policy.diningMinutes) * 60_000
        return seatsHeld(from: start, to: end, holding: holding) + partySize <= policy.seatsPerSlot
    }

    /// The most guests seated at once from `start` to `end` (Unix ms, end excluded), counting each
    /// seat-holding reservation of `holding` from its own start for its own length: the count the
    /// booking rule checks against ``ReservationPolicy/seatsPerSlot``.
    public func seatsHeld(from start: Int64, to end: Int64, holding: [Reservation]) -> Int {
        let overlapping = holding.filter { $0.status.holdsSeats && $0.startsAt < end && $0.endsAt > start }
        // The number seated only rises when someone arrives, so the peak is at the start or at an arrival.
        let moments = [start] + overlapping.map(\.startsAt).filter { $0 > start }
        return moments.map { moment in
            overlapping.lazy.filter { $0.startsAt <= moment && $0.endsAt > moment }.reduce(0) { $0 + $1.partySize }
        }.max() ?? 0
    }

    /// Guests seated during each bookable slot of `date` (the most at once within the slot) against the
    /// seats, from `holding` (every seat-holding reservation that may overlap the day, see
    /// ``window(for:)``). A slot the clocks skip that day is left out.
    public func covers(on date: LocalDate, holding: [Reservation]) -> [SlotCovers] {
        policy.slots(on: date).filter { date.exists($0, in: policy.timeZone) }.map { time in
            let start = date.instant(at: time, in: policy.timeZone).unixMilliseconds
            let end = start + Int64(policy.slotMinutes) * 60_000
            return SlotCovers(
                time: time, covers: seatsHeld(from: start, to: end, holding: holding), seats: policy.seatsPerSlot)
        }
    }

    private func alternatives(
        near date: LocalDate, time: LocalTime, partySize: Int, holding: [Reservation], now: Date
    ) -> [AvailabilityDecision.Alternative] {
        var found: [AvailabilityDecision.Alternative] = []
        var day = date
        while found.count < Self.maximumAlternatives, day <= alternativeDays(from: date).upperBound {
            let candidates = policy.slots(on: day).filter { day.exists($0, in: policy.timeZone) }.sorted {
                let left = abs($0.minutesSinceMidnight - time.minutesSinceMidnight)
                let right = abs($1.minutesSinceMidnight - time.minutesSinceMidnight)
                return left == right ? $0 < $1 : left < right
            }
            for candidate in candidates where !(day == date && candidate == time) {
                if rejection(date: day, time: candidate, partySize: partySize, holding: holding, now: now) == nil {
                    found.append(.init(date: day, time: candidate))
                    if found.count == Self.maximumAlternatives { break }
                }
            }
            day = day.adding(days: 1)
        }
        return found
    }
}

/// How full one slot of a day is: the guests seated during it and the seats there are.
public struct SlotCovers: Sendable, Equatable, Codable {
    /// The slot's start, restaurant time (`"19:30"` in JSON).
    public var time: LocalTime
    /// The most guests seated at once during the slot (a party holds its seats for its dining time).
    public var covers: Int
    /// ``ReservationPolicy/seatsPerSlot``.
    public var seats: Int

    public init(time: LocalTime, covers: Int, seats: Int) {
        self.time = time
        self.covers = covers
        self.seats = seats
    }
}
