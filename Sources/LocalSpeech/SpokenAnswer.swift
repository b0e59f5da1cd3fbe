/// What a caller's words at a ``SpokenStep`` mean, without the calendar: the session turns a day into
/// a date with the restaurant's today, and a time into the restaurant's hours.
public enum SpokenAnswer: Sendable, Hashable {
    public enum MenuChoice: Sendable, Hashable {
        case book, openingHours, message
    }

    /// A day as said: resolved against today by the caller of the recognizer.
    public enum Day: Sendable, Hashable {
        case today
        case tomorrow
        /// ISO weekday, 1 Monday to 7 Sunday: the next one from today (today itself counts).
        case weekday(Int)
        /// A day of the month, with the month when it was said: the next such date from today.
        case dayOfMonth(month: Int?, day: Int)
    }

    /// Whether the caller said morning or evening.
    public enum Meridiem: Sendable, Hashable {
        case morning, evening
    }

    case menu(MenuChoice)
    case partySize(Int)
    case day(Day)
    /// `hour` 1 to 12 as said (12 for noon), with the meridiem when said.
    case time(hour: Int, minute: Int, meridiem: Meridiem?)
    case yes
    case no
    /// The caller asked for a person.
    case person
    /// The caller asked to hear the question again.
    case again

    /// The meaning of a hypothesis of `step`'s grammar; nil when it says nothing the step can use.
    public init?(_ text: String, step: SpokenStep) {
        let words = text.lowercased().split(separator: " ").map(String.init)
        guard !words.isEmpty else { return nil }
        let joined = " " + words.joined(separator: " ") + " "
        if Self.isPerson(joined) {
            self = .person
            return
        }
        if [" again ", " repeat that ", " say that again ", " what "].contains(joined) {
            self = .again
            return
        }
        switch step {
        case .menu:
            if joined.contains(" message ") {
                self = .menu(.message)
            } else if joined.contains(" hours ") || joined.contains(" open ") {
                self = .menu(.openingHours)
            } else if joined.contains(" table ") || joined.contains(" book") || joined.contains(" reservation ") {
                self = .menu(.book)
            } else {
                return nil
            }
        case .partySize:
            guard let number = words.lazy.compactMap({ SpokenStep.cardinals.firstIndex(of: $0) }).first else {
                return nil
            }
            self = .partySize(number + 1)
        case .day:
            guard let day = Self.day(words) else { return nil }
            self = .day(day)
        case .time:
            guard let time = Self.time(words) else { return nil }
            self = time
        case .confirmation:
            let no = ["no", "nope", "wrong", "change"]
            if words.contains(where: no.contains) {
                self = .no
            } else {
                self = .yes
            }
        }
    }

    static func isPerson(_ joined: String) -> Bool {
        [" someone ", " somebody ", " a person "].contains { joined.contains($0) }
    }

    static func day(_ words: [String]) -> Day? {
        if words.contains("today") || words.contains("tonight") { return .today }
        if words.contains("tomorrow") { return .tomorrow }
        if let weekday = words.lazy.compactMap({ SpokenStep.weekdays.firstIndex(of: $0) }).first {
            return .weekday(weekday + 1)
        }
        let month = words.lazy.compactMap { SpokenStep.months.firstIndex(of: $0) }.first.map { $0 + 1 }
        // Ordinals may be two words ("twenty first"): the longest match wins.
        let text = " " + words.joined(separator: " ") + " "
        let matches = SpokenStep.ordinals.enumerated().filter { text.contains(" \($0.element) ") }
        guard let ordinal = matches.max(by: { $0.element.count < $1.element.count }) else { return nil }
        return .dayOfMonth(month: month, day: ordinal.offset + 1)
    }

    static func time(_ words: [String]) -> SpokenAnswer? {
        let meridiem: Meridiem? =
            if words.contains("a.m.") || words.contains("morning") {
                .morning
            } else if words.contains("p.m.") || words.contains("evening") || words.contains("afternoon") {
                .evening
            } else {
                nil
            }
        if words.contains("noon") { return .time(hour: 12, minute: 0, meridiem: .evening) }
        guard let hourIndex = words.firstIndex(where: { SpokenStep.cardinals.prefix(12).contains($0) }),
            let hour = SpokenStep.cardinals.firstIndex(of: words[hourIndex]).map({ $0 + 1 })
        else { return nil }
        if words.contains("half") { return .time(hour: hour, minute: 30, meridiem: meridiem) }
        if words.contains("quarter") {
            if words.contains("to") {
                return .time(hour: hour == 1 ? 12 : hour - 1, minute: 45, meridiem: meridiem)
            }
            return .time(hour: hour, minute: 15, meridiem: meridiem)
        }
        let rest = words[(hourIndex + 1)...].joined(separator: " ")
        let minutes: [(String, Int)] = [
            ("forty-five", 45), ("forty five", 45), ("oh five", 5), ("fifteen", 15), ("thirty", 30), ("twenty", 20),
            ("forty", 40), ("fifty", 50), ("ten", 10),
        ]
        let minute = minutes.first { rest.hasPrefix($0.0) }?.1 ?? 0
        return .time(hour: hour, minute: minute, meridiem: meridiem)
    }
}
