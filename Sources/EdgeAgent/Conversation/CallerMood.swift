import Foundation

/// How frustrated or pressed the caller sounds, turn by turn: from their words (English and Spanish:
/// "this is ridiculous", "otra vez", "I already told you"), from how they speak (talking over the
/// agent, a raised voice), and from how the call has gone (the same question asked again,
/// corrections one after another, tools that failed). A pure value: the call feeds it and acts on
/// the ``Reading``.
public struct CallerMood: Sendable {
    /// How the caller sounds now.
    public enum Level: Int, Sendable, Comparable {
        case calm
        /// Annoyed or pressed: the agent slows down, steadies its voice and keeps it short.
        case strained
        /// Past the point where a person should be offered.
        case upset

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// What was heard that counts.
    public enum Cue: String, Sendable, CaseIterable {
        case angryWords = "angry words"
        case urgency
        case askedForPerson = "asked for a person"
        case correction
        case repeatedCorrections = "repeated corrections"
        case repeatedQuestion = "the same question again"
        case failedTools = "tools that failed"
        case interruptedAgent = "talked over the agent"
        case raisedVoice = "raised voice"
    }

    /// What one caller turn showed.
    public struct Reading: Sendable, Equatable {
        /// 0 (calm) to 1.
        public let score: Double
        public let level: Level
        /// What this turn added, in the order of ``Cue``.
        public let cues: [Cue]
    }

    /// How the caller said it.
    public struct Signals: Sendable, Equatable {
        /// The caller started this turn over the agent's voice.
        public var interruptedAgent = false
        /// How much louder (dB) this utterance was than the caller's earlier ones, when known.
        public var louderThanUsual: Double?

        public init(interruptedAgent: Bool = false, louderThanUsual: Double? = nil) {
            self.interruptedAgent = interruptedAgent
            self.louderThanUsual = louderThanUsual
        }
    }

    /// From this score the caller is ``Level/strained``, and from the next ``Level/upset``.
    public static let strainedFrom = 0.35
    public static let upsetFrom = 0.65
    /// How much of the last score carries into the next turn (a calm turn halves it).
    static let carried = 0.5

    public private(set) var score = 0.0
    /// The highest score of the call.
    public private(set) var peak = 0.0
    private var earlierQuestions: [Set<String>] = []
    private var recentCorrections: [Bool] = []
    private var failedTools = 0
    private var failedToolsCounted = 0

    public init() {}

    public var level: Level { Self.level(of: score) }

    static func level(of score: Double) -> Level {
        score >= upsetFrom ? .upset : score >= strainedFrom ? .strained : .calm
    }

    /// A tool asked for this call failed (a booking refused, a lookup that broke).
    public mutating func toolFailed() {
        failedTools += 1
    }

    /// Reads one caller turn.
    public mutating func hear(_ text: String, signals: Signals = Signals()) -> Reading {
        let words = Self.normalised(text)
        var cues: [Cue] = []
        var evidence = 0.0
        func add(_ cue: Cue, _ weight: Double) {
            cues.append(cue)
            evidence += weight
        }
        if let weight = Self.strongest(in: words, of: Self.angryPhrases) { add(.angryWords, weight) }
        if Self.contains(words, any: Self.urgentPhrases) { add(.urgency, 0.25) }
        let askedForPerson = Self.contains(words, any: Self.personPhrases)
        if askedForPerson { add(.askedForPerson, 0.4) }
        let correction = Self.correctionOpenings.contains { words.hasPrefix($0) }
        if correction { add(.correction, 0.15) }
        recentCorrections = Array((recentCorrections + [correction]).suffix(3))
        if correction && recentCorrections.count(where: { $0 }) >= 2 { add(.repeatedCorrections, 0.2) }
        let question = Self.contentWords(words)
        if question.count >= 3 {
            let times = earlierQuestions.count { Self.similarity($0, question) >= 0.6 }
            if times >= 2 {
                add(.repeatedQuestion, 0.4)
            } else if times == 1 {
                add(.repeatedQuestion, 0.15)
            }
            earlierQuestions.append(question)
        }
        if failedTools >= 2 && failedTools > failedToolsCounted {
            add(.failedTools, failedToolsCounted < 2 ? 0.3 : 0.15)
            failedToolsCounted = failedTools
        }
        if signals.interruptedAgent { add(.interruptedAgent, 0.1) }
        if let louder = signals.louderThanUsual, louder >= 6 { add(.raisedVoice, 0.15) }
        score = min(1, score * Self.carried + evidence)
        // Asking for a person is reason enough to be offered one.
        if askedForPerson { score = max(score, Self.upsetFrom) }
        peak = max(peak, score)
        return Reading(score: score, level: level, cues: Cue.allCases.filter(cues.contains))
    }

    // MARK: Words

    /// Lowercased, accents folded, punctuation to spaces, single-spaced.
    static func normalised(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
        let spaced = folded.map { $0.isLetter || $0.isNumber || $0 == "'" ? $0 : " " }
        return " " + String(spaced).split(separator: " ").joined(separator: " ") + " "
    }

    static func contains(_ words: String, any phrases: [String]) -> Bool {
        phrases.contains { words.contains(" \($0) ") || ($0.hasSuffix("*") && words.contains(" \($0.dropLast())")) }
    }

    static func strongest(in words: String, of phrases: [(String, Double)]) -> Double? {
        phrases.filter { contains(words, any: [$0.0]) }.map(\.1).max()
    }

    /// Phrases of annoyance, folded as ``normalised(_:)`` folds (a trailing `*` matches a word's start).
    static let angryPhrases: [(String, Double)] = [
        ("ridiculous", 0.45), ("unbelievable", 0.4), ("useless", 0.45), ("terrible", 0.35), ("stupid", 0.45),
        ("waste of time", 0.45), ("are you even listening", 0.45), ("you're not listening", 0.4),
        ("you are not listening", 0.4), ("listen to me", 0.35), ("frustrat*", 0.4), ("annoying", 0.35),
        ("fed up", 0.4), ("for god's sake", 0.45), ("this is a joke", 0.45), ("i already told you", 0.35),
        ("i already said", 0.3), ("i just said", 0.3), ("how many times", 0.35), ("not what i said", 0.3),
        ("again", 0.15), ("seriously", 0.2),
        ("ridiculo", 0.45), ("inutil", 0.45), ("que desastre", 0.45), ("una verguenza", 0.45),
        ("estoy harto", 0.45), ("estoy harta", 0.45), ("no me escucha", 0.4), ("no me esta escuchando", 0.4),
        ("no me escuchas", 0.4), ("otra vez", 0.3), ("ya le dije", 0.35), ("ya te dije", 0.35),
        ("se lo he dicho", 0.35), ("cuantas veces", 0.35), ("no es lo que dije", 0.3), ("por dios", 0.35),
        ("es increible", 0.3),
    ]
    static let urgentPhrases = [
        "urgent", "emergency", "right now", "asap", "immediately", "urgente", "ahora mismo", "emergencia",
        "inmediatamente",
    ]
    static let personPhrases = [
        "a person", "real person", "a human", "someone real", "speak to someone", "talk to someone",
        "the manager", "a manager", "speak to staff", "talk to staff", "una persona", "alguien de verdad",
        "hablar con alguien", "el encargado", "la encargada", "el gerente", "la gerente", "un humano",
    ]
    static let correctionOpenings = [
        " no ", " nope ", " that's not ", " that is not ", " not ", " wrong ", " i said ", " no no ",
        " que no ", " eso no ", " he dicho ", " te he dicho ", " le he dicho ",
    ]
    static let stopWords: Set<String> = [
        "the", "and", "for", "you", "your", "can", "could", "would", "have", "what", "are", "is", "do", "does",
        "please", "want", "like", "que", "para", "una", "uno", "los", "las", "por", "con", "del", "tienen",
        "quiero", "puede", "favor",
    ]

    /// The words of a question that carry its meaning (three letters or more, not the commonest).
    static func contentWords(_ words: String) -> Set<String> {
        Set(words.split(separator: " ").map(String.init).filter { $0.count >= 3 && !stopWords.contains($0) })
    }

    static func similarity(_ a: Set<String>, _ b: Set<String>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 0 : Double(a.intersection(b).count) / Double(union)
    }
}
