/// E.164 phone numbers, the key of customer profiles.
public enum PhoneNumber {
    /// Returns `text` without spaces, dashes, dots and brackets when the rest is `+` and 2 to 15 digits
    /// not starting with 0; nil otherwise.
    public static func e164(_ text: String) -> String? {
        let compact = text.filter { !" -().".contains($0) }
        guard compact.first == "+" else { return nil }
        let digits = compact.dropFirst()
        guard (2...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            digits.first != "0"
        else { return nil }
        return compact
    }

    /// The number with all but its last two digits hidden, for logs (`+*********67`).
    public static func redacted(_ text: String) -> String {
        guard text.count > 2 else { return String(repeating: "*", count: text.count) }
        let prefix = text.hasPrefix("+") ? "+" : ""
        let body = text.dropFirst(prefix.count)
        return prefix + String(repeating: "*", count: max(0, body.count - 2)) + body.suffix(2)
    }
}
