public import Foundation

/// A calendar day in the restaurant's time zone, written `YYYY-MM-DD`.
public struct LocalDate: Hashable, Comparable, Sendable, CodableAsText {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Parses `YYYY-MM-DD`, refusing days that do not exist (2026-02-30).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Makes a date, refusing days that do not exist.
    public init?(year: Int, month: Int, day: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard (1...12).contains(month), (1...31).contains(day),
            let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
            calendar.component(.day, from: date) == day
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day on which `instant` falls in `timeZone`.
    public init(_ instant: Date, in timeZone: TimeZone) {
        let components = Self.calendar(timeZone).dateComponents([.year, .month, .day], from: instant)
        self.year = components.year!
        self.month = components.month!
        self.day = components.day!
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// The day `count` days later (earlier when negative).
    public func adding(days count: Int) -> LocalDate {
        let utc = Self.calendar(TimeZone(identifier: "UTC")!)
        let start = utc.date(from: DateComponents(year: year, month: month, day: day))!
        return LocalDate(utc.date(byAdding: .day, value: count, to: start)!, in: TimeZone(identifier: "UTC")!)
    }

    /// ISO weekday: 1 is Monday, 7 is Sunday.
    public var isoWeekday: Int {
        let utc = Self.calendar(TimeZone(identifier: "UTC")!)
        let start = utc.date(from: DateComponents(year: year, month: month, day: day))!
        let gregorian = utc.component(.weekday, from: start)  // 1 is Sunday
        return gregorian == 1 ? 7 : gregorian - 1
    }

    /// Whether the wall clock shows `time` on this day in `timeZone`; false for the hour skipped when
    /// the clocks go forward.
    public func exists(_ time: LocalTime, in timeZone: TimeZone) -> Bool {
        guard time.minutesSinceMidnight < 1440 else { return true }
        let instant = self.instant(at: time, in: timeZone)
        return LocalDate(instant, in: timeZone) == self && LocalTime(instant, in: timeZone) == time
    }

    /// The instant this day reaches `time` in `timeZone` (for a time skipped by a daylight-saving
    /// change, the instant the clock shows an hour later; check ``exists(_:in:)`` first).
    public func instant(at time: LocalTime, in timeZone: TimeZone) -> Date {
        Self.calendar(timeZone).date(
            from: DateComponents(year: year, month: month, day: day, hour: time.hour, minute: time.minute))!
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// What the text of a date looks like, for the error when it does not.
    public static let textForm = "a YYYY-MM-DD date"

    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
}

/// A time of day on the 24-hour clock, written `HH:MM`.
public struct LocalTime: Hashable, Comparable, Sendable, CodableAsText {
    /// Minutes since midnight, 0 to 1440 (1440 is the end of the day, `24:00`, allowed as a closing time).
    public let minutesSinceMidnight: Int

    public var hour: Int { minutesSinceMidnight / 60 }
    public var minute: Int { minutesSinceMidnight % 60 }

    /// Parses `HH:MM` (`24:00` allowed for closing at midnight).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]),
            let minute = Int(parts[1])
        else { return nil }
        self.init(hour: hour, minute: minute)
    }

    /// Makes a time; nil outside 00:00...24:00.
    public init?(hour: Int, minute: Int) {
        guard (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 1440 else { return nil }
        self.minutesSinceMidnight = hour * 60 + minute
    }

    /// Makes a time from minutes since midnight; nil outside 0...1440.
    public init?(minutesSinceMidnight: Int) {
        guard (0...1440).contains(minutesSinceMidnight) else { return nil }
        self.minutesSinceMidnight = minutesSinceMidnight
    }

    /// The wall-clock time of `instant` in `timeZone`.
    public init(_ instant: Date, in timeZone: TimeZone) {
        let components = LocalDate.calendar(timeZone).dateComponents([.hour, .minute], from: instant)
        self.minutesSinceMidnight = components.hour! * 60 + components.minute!
    }

    public var description: String { String(format: "%02d:%02d", hour, minute) }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool {
        lhs.minutesSinceMidnight < rhs.minutesSinceMidnight
    }

    /// What the text of a time looks like, for the error when it does not.
    public static let textForm = "an HH:MM time"
}

/// A value JSON holds as its text (`2026-12-07`, `19:30`): decoded with ``init(_:)``, encoded as its
/// ``description``.
public protocol CodableAsText: Codable, LosslessStringConvertible {
    /// What the text must look like, for the error when it does not ("a YYYY-MM-DD date").
    static var textForm: String { get }
}

extension CodableAsText {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not \(Self.textForm)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
