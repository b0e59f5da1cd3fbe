public import Foundation

/// The restaurant's booking rules: when it is open and how many guests it seats. All configuration.
public struct ReservationPolicy: Sendable, Equatable {
    /// One opening period of a day, for example lunch `12:00-15:00`.
    public struct Period: Sendable, Equatable, CustomStringConvertible {
        public let opens: LocalTime
        public let closes: LocalTime

        /// Makes a period; nil unless `opens` is before `closes`.
        public init?(opens: LocalTime, closes: LocalTime) {
            guard opens < closes else { return nil }
            self.opens = opens
            self.closes = closes
        }

        /// Parses `HH:MM-HH:MM`.
        public init?(_ text: String) {
            let parts = text.split(separator: "-")
            guard parts.count == 2, let opens = LocalTime(String(parts[0]).trimmingCharacters(in: .whitespaces)),
                let closes = LocalTime(String(parts[1]).trimmingCharacters(in: .whitespaces))
            else { return nil }
            self.init(opens: opens, closes: closes)
        }

        public var description: String { "\(opens)-\(closes)" }
    }

    /// The restaurant's time zone; dates and times in tools and prompts are in it.
    public var timeZone: TimeZone
    /// Opening periods per ISO weekday (1 Monday ... 7 Sunday); a missing or empty day is closed.
    public var openingHours: [Int: [Period]]
    /// Days closed whatever the weekday (holidays).
    public var closedDates: Set<LocalDate>
    /// Bookings start on multiples of this many minutes after midnight.
    public var slotMinutes: Int
    /// Guests the restaurant seats at the same time.
    public var seatsPerSlot: Int
    /// The largest party bookable by phone.
    public var maxPartySize: Int
    /// How long a party holds its seats.
    public var diningMinutes: Int
    /// How far ahead of now a booking must start.
    public var minimumNoticeMinutes: Int
    /// How many days ahead bookings are taken.
    public var bookingHorizonDays: Int

    public init(
        timeZone: TimeZone, openingHours: [Int: [Period]], closedDates: Set<LocalDate> = [], slotMinutes: Int = 15,
        seatsPerSlot: Int = 40, maxPartySize: Int = 8, diningMinutes: Int = 90, minimumNoticeMinutes: Int = 0,
        bookingHorizonDays: Int = 90
    ) {
        self.timeZone = timeZone
        self.openingHours = openingHours
        self.closedDates = closedDates
        self.slotMinutes = slotMinutes
        self.seatsPerSlot = seatsPerSlot
        self.maxPartySize = maxPartySize
        self.diningMinutes = diningMinutes
        self.minimumNoticeMinutes = minimumNoticeMinutes
        self.bookingHorizonDays = bookingHorizonDays
    }

    /// The opening periods of `date`: empty when closed.
    public func periods(on date: LocalDate) -> [Period] {
        closedDates.contains(date) ? [] : openingHours[date.isoWeekday] ?? []
    }

    /// Every bookable start time of `date`: on the slot grid, from opening until one slot before closing.
    public func slots(on date: LocalDate) -> [LocalTime] {
        periods(on: date).flatMap { period -> [LocalTime] in
            let first = (period.opens.minutesSinceMidnight + slotMinutes - 1) / slotMinutes * slotMinutes
            let last = period.closes.minutesSinceMidnight - slotMinutes
            guard first <= last else { return [] }
            return stride(from: first, through: last, by: slotMinutes).compactMap {
                LocalTime(minutesSinceMidnight: $0)
            }
        }
    }

    /// The weekdays' names used in configuration, ISO order.
    public static let weekdayKeys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
}
