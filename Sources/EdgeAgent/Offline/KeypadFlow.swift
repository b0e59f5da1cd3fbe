public import LocalStore

/// The keypad conversation of the interface spec, as a state machine: it takes one key at a time and
/// says what the call should do. It books with the same rules as the voice agent (the session runs the
/// booking through the reservation book), and needs nothing from the cloud.
///
/// | key | does |
/// |---|---|
/// | `1` | book: party size `#`, day (`1` today, `2` tomorrow, `YYYYMMDD`) `#`, time `HHMM` `#`, then `1` confirm or `2` start again |
/// | `2` | the opening hours |
/// | `3` | a message after the tone, ended by `#` or silence |
/// | `0` | staff (transfer) |
/// | `9` | English / Spanish |
/// | `*` | the menu again (from anywhere) |
public struct KeypadFlow: Sendable, Equatable {
    /// Where the caller is in the flow.
    public enum Step: Sendable, Equatable {
        case menu
        case partySize
        case day(partySize: Int)
        case time(partySize: Int, date: LocalDate)
        case confirm(partySize: Int, date: LocalDate, time: LocalTime)
        case message
    }

    /// What the session does after a key.
    public enum Action: Sendable, Equatable {
        case say(PhraseBook.Key)
        case menu
        case readBack(partySize: Int, date: LocalDate, time: LocalTime)
        /// Check availability and book (the session answers with booked, unavailable or closed).
        case book(partySize: Int, date: LocalDate, time: LocalTime)
        case openingHours
        /// Play the tone and keep what the caller says until `#` or silence.
        case startMessage
        case endMessage
        case transfer
        case switchLanguage
    }

    public private(set) var step: Step = .menu
    private var digits = ""
    /// Today in the restaurant's time zone, for "1" and "2" as days.
    let today: @Sendable () -> LocalDate
    let maxPartySize: Int

    public init(today: @escaping @Sendable () -> LocalDate, maxPartySize: Int) {
        self.today = today
        self.maxPartySize = maxPartySize
    }

    public static func == (lhs: KeypadFlow, rhs: KeypadFlow) -> Bool {
        lhs.step == rhs.step && lhs.digits == rhs.digits
    }

    /// The caller pressed `key` (`0`-`9`, `*`, `#`).
    public mutating func press(_ key: String) -> [Action] {
        if key == "*" {
            if step == .message {
                step = .menu
                digits = ""
                return [.endMessage, .menu]
            }
            step = .menu
            digits = ""
            return [.menu]
        }
        switch step {
        case .menu:
            return menuKey(key)
        case .message:
            guard key == "#" else { return [] }
            step = .menu
            return [.endMessage]
        case .confirm(let partySize, let date, let time):
            switch key {
            case "1":
                step = .menu
                return [.book(partySize: partySize, date: date, time: time)]
            case "2":
                step = .partySize
                return [.say(.keypadPartySize)]
            default:
                return [.say(.keypadConfirm)]
            }
        case .partySize, .day, .time:
            guard key == "#" else {
                if digits.count < 8 { digits += key }
                return []
            }
            let entry = digits
            digits = ""
            return entered(entry)
        }
    }

    /// The caller left the message (silence after speaking, or a long pause).
    public mutating func messageEnded() -> [Action] {
        guard step == .message else { return [] }
        step = .menu
        return [.endMessage]
    }

    /// Back to the menu, forgetting any entry half made.
    public mutating func reset() {
        step = .menu
        digits = ""
    }

    /// The restaurant is closed on the day asked for: ask for another day.
    public mutating func askDayAgain(partySize: Int) {
        step = .day(partySize: partySize)
        digits = ""
    }

    /// The time the caller asked for is taken: ask for another on the same day.
    public mutating func askTimeAgain(partySize: Int, date: LocalDate) {
        step = .time(partySize: partySize, date: date)
        digits = ""
    }

    private mutating func menuKey(_ key: String) -> [Action] {
        switch key {
        case "1":
            step = .partySize
            return [.say(.keypadPartySize)]
        case "2": return [.openingHours, .menu]
        case "3":
            step = .message
            return [.startMessage]
        case "0": return [.transfer]
        case "9": return [.switchLanguage, .menu]
        case "#": return []
        default: return [.say(.keypadInvalid), .menu]
        }
    }

    private mutating func entered(_ entry: String) -> [Action] {
        switch step {
        case .partySize:
            guard let size = Int(entry), (1...maxPartySize).contains(size) else {
                return [.say(.keypadInvalid), .say(.keypadPartySize)]
            }
            step = .day(partySize: size)
            return [.say(.keypadDay)]
        case .day(let partySize):
            let date: LocalDate?
            switch entry {
            case "1": date = today()
            case "2": date = today().adding(days: 1)
            default: date = Self.date(entry)
            }
            guard let date, date >= today() else { return [.say(.keypadInvalid), .say(.keypadDay)] }
            step = .time(partySize: partySize, date: date)
            return [.say(.keypadTime)]
        case .time(let partySize, let date):
            guard entry.count == 4, let hour = Int(entry.prefix(2)), let minute = Int(entry.suffix(2)),
                let time = LocalTime(hour: hour, minute: minute)
            else { return [.say(.keypadInvalid), .say(.keypadTime)] }
            step = .confirm(partySize: partySize, date: date, time: time)
            return [.readBack(partySize: partySize, date: date, time: time), .say(.keypadConfirm)]
        default:
            return []
        }
    }

    /// `YYYYMMDD` as a date.
    static func date(_ entry: String) -> LocalDate? {
        guard entry.count == 8, let year = Int(entry.prefix(4)), let month = Int(entry.dropFirst(4).prefix(2)),
            let day = Int(entry.suffix(2))
        else { return nil }
        return LocalDate(year: year, month: month, day: day)
    }
}
