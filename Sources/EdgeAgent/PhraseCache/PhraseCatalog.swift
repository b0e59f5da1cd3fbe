import Foundation
public import LocalStore
import Yams

/// One language's phrase catalog (`Resources/catalog/<language>.yaml`): the lines the agent says often,
/// and the templates and vocabulary to say a booking, a day's hours or free times without the cloud,
/// as sentences composed of cached fragments in the same voice.
public struct PhraseCatalog: Sendable {
    /// A sentence and the fragments (each a cache entry of its own) it is made of.
    public struct Composed: Sendable, Equatable {
        public var text: String
        public var fragments: [String]
    }

    public let language: String
    /// Whole lines said often.
    public let phrases: [String]
    let templates: [String: String]
    let words: [String: String]
    let numbers: [String]
    let ordinals: [String]
    let weekdays: [String]
    let months: [String]
    let time: TimeWords
    let partySizes: [Int: String]

    struct TimeWords: Sendable {
        var onTheHour: String
        var withMinutes: String
        var hours: [Int: String]
        var minutes: [Int: String]
        var articles: [String: String]
        /// (first hour of the day the period word applies from, word), in order.
        var periods: [(Int, String)]
        var noon: String
        var midnight: String
    }

    /// The placeholders each template must use.
    static let templatePlaceholders: [String: Set<String>] = [
        "booking": ["party_size", "people", "day", "time"],
        "date": ["weekday", "month", "ordinal"],
        "hours_open": ["weekday", "periods"],
        "hours_period": ["opens", "closes"],
        "hours_closed": ["weekday"],
        "alternatives": ["times"],
    ]
    static let requiredWords = ["today", "tomorrow", "and", "or", "person", "people"]

    // MARK: Sentences

    /// A booking read back: "A table for four people, Friday, November twenty-seventh, at seven thirty p.m."
    public func booking(partySize: Int, date: LocalDate, time: LocalTime, today: LocalDate) -> Utterance {
        let people = partySize == 1 ? words["person"]! : words["people"]!
        let sentence = fill(
            templates["booking"]!,
            [
                "party_size": fragment(partySizeWord(partySize)), "people": fragment(people),
                "day": day(date, today: today), "time": fragment(timeWords(time)),
            ])
        return utterance(sentence)
    }

    /// One day's opening hours, or that the restaurant is closed that day.
    public func openingHours(isoWeekday: Int, periods: [ReservationPolicy.Period]) -> Utterance {
        let weekday = fragment(weekdays[isoWeekday - 1])
        guard !periods.isEmpty else { return utterance(fill(templates["hours_closed"]!, ["weekday": weekday])) }
        let parts = periods.map {
            fill(
                templates["hours_period"]!,
                ["opens": fragment(timeWords($0.opens)), "closes": fragment(timeWords($0.closes))])
        }
        return utterance(fill(templates["hours_open"]!, ["weekday": weekday, "periods": list(parts, word: "and")]))
    }

    /// Free times offered instead of the one asked for.
    public func alternatives(_ times: [LocalTime]) -> Utterance {
        utterance(fill(templates["alternatives"]!, ["times": list(times.map { fragment(timeWords($0)) }, word: "or")]))
    }

    /// A time of day in words: "seven thirty p.m.", "las siete y media de la tarde".
    public func timeWords(_ time: LocalTime) -> String {
        if time.minutesSinceMidnight == 0 { return self.time.midnight }
        if time.minutesSinceMidnight == 12 * 60 { return self.time.noon }
        let hour = time.hour % 12 == 0 ? 12 : time.hour % 12
        let period = self.time.periods.last(where: { $0.0 <= time.hour })?.1 ?? ""
        let values = [
            "hour": self.time.hours[hour] ?? numbers[hour],
            "minutes": self.time.minutes[time.minute] ?? numbers[time.minute],
            "article": self.time.articles[String(hour)] ?? self.time.articles["other"] ?? "",
            "period": period,
        ]
        var text = time.minute == 0 ? self.time.onTheHour : self.time.withMinutes
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return PhraseKey.normalise(text)
    }

    /// "today", "tomorrow", or the date in words.
    func day(_ date: LocalDate, today: LocalDate) -> Composed {
        if date == today { return fragment(words["today"]!) }
        if date == today.adding(days: 1) { return fragment(words["tomorrow"]!) }
        return fill(
            templates["date"]!,
            [
                "weekday": fragment(weekdays[date.isoWeekday - 1]), "month": fragment(months[date.month - 1]),
                "ordinal": fragment(ordinals[date.day - 1]),
            ])
    }

    func partySizeWord(_ size: Int) -> String {
        partySizes[size] ?? (numbers.indices.contains(size) ? numbers[size] : String(size))
    }

    // MARK: What to warm

    /// Every text the cache should hold for this language: the catalog's lines, `phraseBook`'s spoken
    /// lines (those naming the restaurant filled in, those with other placeholders left out), the fixed
    /// parts of the templates, the vocabulary, and every time on the slot grid from the earliest
    /// opening to the latest closing.
    public func warmTexts(policy: ReservationPolicy, phraseBook: PhraseBook, restaurantName: String) -> [String] {
        var texts: [String] = []
        var seen = Set<String>()
        func add(_ text: String) {
            let text = PhraseKey.normalise(text)
            if !text.isEmpty, seen.insert(text).inserted { texts.append(text) }
        }
        for key in PhraseBook.Key.allCases where key.isSpoken {
            let text = phraseBook.text(key, language: language)
            switch PhraseBook.placeholders(text) {
            case []: add(text)
            case ["restaurant"]: add(phraseBook.text(key, language: language, ["restaurant": restaurantName]))
            default: break
            }
        }
        phrases.forEach(add)
        for template in templates.values {
            for literal in Self.literals(of: template) { add(literal) }
        }
        Self.requiredWords.compactMap { words[$0] }.forEach(add)
        (numbers + ordinals + weekdays + months + Array(partySizes.values)).forEach(add)
        let periods = policy.openingHours.values.flatMap { $0 }
        if let first = periods.map(\.opens.minutesSinceMidnight).min(),
            let last = periods.map(\.closes.minutesSinceMidnight).max()
        {
            let start = first / policy.slotMinutes * policy.slotMinutes
            for minute in stride(from: start, through: last, by: policy.slotMinutes) {
                if let time = LocalTime(minutesSinceMidnight: minute) { add(timeWords(time)) }
            }
            for period in periods {
                add(timeWords(period.opens))
                add(timeWords(period.closes))
            }
        }
        return texts
    }

    // MARK: Composition

    private func fragment(_ text: String) -> Composed {
        Composed(text: text, fragments: [text])
    }

    private func utterance(_ sentence: Composed) -> Utterance {
        Utterance(
            PhraseKey.normalise(sentence.text), language: language, cacheable: true, pinned: false,
            fragments: sentence.fragments)
    }

    /// "a, b or c" as one composition.
    private func list(_ items: [Composed], word: String) -> Composed {
        var result = Composed(text: "", fragments: [])
        for (index, item) in items.enumerated() {
            if index > 0 {
                if index == items.count - 1 {
                    result.text += " \(words[word]!) "
                    result.fragments.append(words[word]!)
                } else {
                    result.text += ", "
                }
            }
            result.text += item.text
            result.fragments += item.fragments
        }
        return result
    }

    /// `template` with its placeholders replaced; its fixed parts become fragments too.
    func fill(_ template: String, _ values: [String: Composed]) -> Composed {
        var result = Composed(text: "", fragments: [])
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            appendLiteral(rest[..<open], to: &result)
            let name = String(rest[rest.index(after: open)..<close])
            if let value = values[name] {
                result.text += value.text
                result.fragments += value.fragments
            }
            rest = rest[rest.index(after: close)...]
        }
        appendLiteral(rest, to: &result)
        return result
    }

    private func appendLiteral(_ literal: Substring, to result: inout Composed) {
        // A value ending in a full stop ("p.m.") before a template's own full stop: one is enough.
        let literal = result.text.hasSuffix(".") && literal.hasPrefix(".") ? literal.dropFirst() : literal
        result.text += literal
        if let fragment = Self.speakable(literal) { result.fragments.append(fragment) }
    }

    /// The fixed parts of a template that are spoken (punctuation alone is not).
    static func literals(of template: String) -> [String] {
        var literals: [String] = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            if let literal = speakable(rest[..<open]) { literals.append(literal) }
            rest = rest[rest.index(after: close)...]
        }
        if let literal = speakable(rest) { literals.append(literal) }
        return literals
    }

    /// A template's fixed part without the punctuation and spaces at its ends, or nil if no word is left.
    static func speakable(_ literal: Substring) -> String? {
        let trimmed = literal.trimmingCharacters(in: CharacterSet.letters.inverted)
        return trimmed.isEmpty ? nil : PhraseKey.normalise(trimmed)
    }
}
