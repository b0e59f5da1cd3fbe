import Foundation

/// Every fixed thing the agent says, and its system prompt, per language, from reviewed resource files
/// (`Resources/phrases/en.json`, `es.json`) rather than strings scattered in code.
public struct PhraseBook: Sendable {
    /// The phrase keys every language file must define.
    public enum Key: String, CaseIterable, Sendable {
        case systemPrompt = "system_prompt"
        case callerKnown = "caller_known"
        case callerUnknown = "caller_unknown"
        case greeting
        case greetingReturning = "greeting_returning"
        case filler
        case didNotHear = "did_not_hear"
        case apology
        case goodbye
        case transferring
        case recordingNotice = "recording_notice"
        case keypadMenu = "keypad_menu"
        case keypadInput = "keypad_input"
        case offlineNotice = "offline_notice"
        case keypadPartySize = "keypad_party_size"
        case keypadDay = "keypad_day"
        case keypadTime = "keypad_time"
        case keypadConfirm = "keypad_confirm"
        case keypadBooked = "keypad_booked"
        case keypadUnavailable = "keypad_unavailable"
        case keypadClosed = "keypad_closed"
        case keypadInvalid = "keypad_invalid"
        case keypadMessage = "keypad_message"
        case keypadMessageTaken = "keypad_message_taken"
        case keypadNoMessage = "keypad_no_message"
        case hold
        case voiceBack = "voice_back"
        /// Offered once to a caller who sounds upset: a person, or a call-back.
        case escalationOffer = "escalation_offer"
        /// The same, where calls cannot be transferred: a call-back only.
        case escalationOfferMessage = "escalation_offer_message"
        /// Text messages (not spoken): a booking, a change, a cancellation; answers to a reply.
        case textBooked = "text_booked"
        case textChanged = "text_changed"
        case textCancelled = "text_cancelled"
        case textReplyCancelled = "text_reply_cancelled"
        case textReplyNothing = "text_reply_nothing"
        /// Asks for the caller's consent to a text on the keypad, and thanks them.
        case textConsent = "text_consent"
        case textConsentGiven = "text_consent_given"

        /// Keys that are instructions for the model or fill-ins, never spoken as they are.
        public var isSpoken: Bool {
            ![
                .systemPrompt, .callerKnown, .callerUnknown, .keypadInput, .textBooked, .textChanged, .textCancelled,
                .textReplyCancelled, .textReplyNothing,
            ].contains(self)
        }
    }

    /// The languages the agent speaks.
    public static let languages = ["en", "es"]

    private let phrases: [String: [String: String]]

    /// Loads the shipped phrase files.
    public static func shipped() throws -> PhraseBook {
        var phrases: [String: [String: String]] = [:]
        for language in languages {
            guard let url = Bundle.module.url(forResource: language, withExtension: "json", subdirectory: "phrases")
            else { throw StartupError("the phrase file phrases/\(language).json is missing from the installation") }
            phrases[language] = try load(url)
        }
        return try PhraseBook(phrases)
    }

    /// Checks that every language has every key, and every placeholder each key uses in English.
    public init(_ phrases: [String: [String: String]]) throws {
        for language in Self.languages {
            guard let table = phrases[language] else { throw StartupError("no phrases for language \(language)") }
            for key in Key.allCases {
                guard let text = table[key.rawValue], !text.isEmpty else {
                    throw StartupError("phrases/\(language).json has no '\(key.rawValue)'")
                }
                let expected = Self.placeholders(phrases["en"]?[key.rawValue] ?? "")
                guard Self.placeholders(text) == expected else {
                    throw StartupError(
                        "phrases/\(language).json: '\(key.rawValue)' must use the placeholders \(expected.sorted())")
                }
            }
        }
        self.phrases = phrases
    }

    /// The phrase `key` in `language` (English when the language is unknown), placeholders filled.
    public func text(_ key: Key, language: String, _ values: [String: String] = [:]) -> String {
        let table = phrases[language] ?? phrases["en"]!
        var text = table[key.rawValue]!
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }

    static func load(_ url: URL) throws -> [String: String] {
        guard let data = try? Data(contentsOf: url),
            let table = try? JSONDecoder().decode([String: String].self, from: data)
        else { throw StartupError("\(url.lastPathComponent) is not a JSON object of strings") }
        return table
    }

    static func placeholders(_ text: String) -> Set<String> {
        var names = Set<String>()
        var rest = text[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.insert(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }
}
