/// Decides whether a sentence may be written to the phrase cache: text that may carry personal data
/// (a caller's name, a phone number, an email address) is spoken but never stored.
///
/// The rule is deliberately cautious: any run of three or more digits (phone numbers, confirmation
/// codes, years), an `@`, or any of the call's known personal terms (the caller's name, names given
/// to tools) as a whole word keeps the text out of the cache. Times ("7:30") and party sizes pass.
public struct PersonalDataFilter: Sendable {
    /// Names and other terms this call knows to be personal.
    public var terms: Set<String>

    public init(terms: Set<String> = []) {
        self.terms = terms
    }

    /// Adds a personal term (a name, a phone number); blank text is ignored.
    public mutating func add(_ term: String) {
        for word in term.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) where word.count >= 2 {
            terms.insert(word.lowercased())
        }
    }

    /// Whether `text` is free of anything personal and may be cached.
    public func allowsCaching(_ text: String) -> Bool {
        var digitRun = 0
        for character in text {
            if character == "@" { return false }
            if character.isNumber {
                digitRun += 1
                if digitRun >= 3 { return false }
            } else if character != " " && character != "-" && character != "." && character != "(" && character != ")" {
                digitRun = 0
            }
        }
        guard !terms.isEmpty else { return true }
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.lowercased() }
        return !words.contains(where: terms.contains)
    }
}
