public import Sync
import Synchronization

/// The restaurant's booking rules as they stand now: the box's configuration, overlaid with the
/// settings headquarters sent (``SiteSettings``). Read at every booking decision, so a change that
/// arrives from headquarters applies to the next question a caller asks, without a restart.
public final class ReservationPolicySource: Sendable {
    /// The configuration, before any settings from headquarters.
    public let configured: ReservationPolicy
    private let state: Mutex<ReservationPolicy>

    public init(configured: ReservationPolicy) {
        self.configured = configured
        state = Mutex(configured)
    }

    /// The rules in force.
    public var current: ReservationPolicy { state.withLock { $0 } }

    /// Applies headquarters' settings over the configuration; invalid settings change nothing and
    /// throw why.
    public func apply(_ settings: SiteSettings) throws(SiteSettingsError) {
        let policy = try configured.overlaid(with: settings)
        state.withLock { $0 = policy }
    }
}

/// Settings from headquarters that cannot be used, naming the field and what is wrong with it.
public struct SiteSettingsError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension ReservationPolicy {
    /// This policy with every field `settings` sets replaced; throws on the first invalid field.
    public func overlaid(with settings: SiteSettings) throws(SiteSettingsError) -> ReservationPolicy {
        var policy = self
        if let hours = settings.openingHours {
            var opening: [Int: [Period]] = [:]
            for (day, periods) in hours {
                guard let weekday = Int(day), (1...7).contains(weekday) else {
                    throw SiteSettingsError("opening_hours: \(day) is not an ISO weekday from 1 (Monday) to 7")
                }
                opening[weekday] = try periods.map { (text: String) throws(SiteSettingsError) -> Period in
                    guard let period = Period(text) else {
                        throw SiteSettingsError("opening_hours[\(day)]: \(text) is not HH:MM-HH:MM with opening first")
                    }
                    return period
                }
            }
            policy.openingHours = opening
        }
        if let dates = settings.closedDates {
            policy.closedDates = Set(
                try dates.map { (text: String) throws(SiteSettingsError) -> LocalDate in
                    guard let date = LocalDate(text) else {
                        throw SiteSettingsError("closed_dates: \(text) is not YYYY-MM-DD")
                    }
                    return date
                })
        }
        if let seats = settings.seatsPerSlot {
            guard (1...10_000).contains(seats) else { throw SiteSettingsError("seats_per_slot must be 1 or more") }
            policy.seatsPerSlot = seats
        }
        if let party = settings.maxPartySize {
            guard (1...1_000).contains(party) else { throw SiteSettingsError("max_party_size must be 1 or more") }
            policy.maxPartySize = party
        }
        if let minutes = settings.diningMinutes {
            guard (15...720).contains(minutes) else {
                throw SiteSettingsError("dining_minutes must be from 15 to 720")
            }
            policy.diningMinutes = minutes
        }
        return policy
    }
}
