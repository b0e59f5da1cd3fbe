import AudioIO
import EdgeAgent
import Foundation
public import LocalSpeech

/// `edge-agent audio recognition-bench`: how well the box's own recognizer (``LocalRecognizer``)
/// understands the answers of an offline booking, over a corpus it makes with espeak-ng: every step's
/// phrasings in several English voices, as telephone audio (8 kHz mu-law), clean and with the
/// restaurant noise of ``NoisyLineCorpus`` 10 dB below the words.
public struct RecognitionBenchmark: Sendable {
    /// One thing a caller says at a step, and what it means.
    public struct Phrase: Sendable {
        public let step: SpokenStep
        public let text: String
        public let meaning: SpokenAnswer
    }

    /// The score of one step in one condition.
    public struct Score: Sendable, Equatable {
        public var said = 0
        /// Understood as meant, with confidence enough to go on.
        public var understood = 0
        /// Understood as something else, with confidence enough to go on (the read-back must catch it).
        public var wrongAccepted = 0
        /// Heard with too little confidence, or nothing usable: asked again.
        public var askedAgain = 0
        public var audioSeconds = 0.0
        public var decodeSeconds = 0.0

        public var understoodShare: Double { Double(understood) / Double(max(said, 1)) }
    }

    /// Scores per step, clean and noisy.
    public struct Results: Sendable, CustomStringConvertible {
        public var clean: [SpokenStep: Score] = [:]
        public var noisy: [SpokenStep: Score] = [:]
        /// "No" at the read-back heard as "yes" with confidence enough: a wrong value would be booked.
        public var noTakenForYes = 0

        public func total(noisy: Bool) -> Score {
            (noisy ? self.noisy : clean).values.reduce(into: Score()) {
                $0.said += $1.said
                $0.understood += $1.understood
                $0.wrongAccepted += $1.wrongAccepted
                $0.askedAgain += $1.askedAgain
                $0.audioSeconds += $1.audioSeconds
                $0.decodeSeconds += $1.decodeSeconds
            }
        }

        public var description: String {
            func row(_ label: String, _ clean: Score, _ noisy: Score) -> String {
                "| \(label) | \(clean.understood)/\(clean.said) (\(percent(clean.understoodShare))) | "
                    + "\(noisy.understood)/\(noisy.said) (\(percent(noisy.understoodShare))) | "
                    + "\(clean.wrongAccepted) / \(noisy.wrongAccepted) | \(clean.askedAgain) / \(noisy.askedAgain) |"
            }
            func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }
            var lines = [
                "| step | understood at first try, clean | at 10 dB | wrong accepted (clean / 10 dB) | asked again |",
                "|---|---|---|---|---|",
            ]
            for step in SpokenStep.allCases {
                lines.append(row(step.rawValue, clean[step] ?? Score(), noisy[step] ?? Score()))
            }
            let (clean, noisy) = (total(noisy: false), total(noisy: true))
            lines.append(row("all", clean, noisy))
            let cost = (clean.decodeSeconds + noisy.decodeSeconds) / max(clean.audioSeconds + noisy.audioSeconds, 1e-9)
            lines.append(
                "\n\"no\" at the read-back taken for \"yes\": \(noTakenForYes)\n"
                    + String(
                        format: "decoding: %.3f s of processor per second of speech (%.0f offline calls per core "
                            + "if every caller spoke without pause)", cost, 1 / max(cost, 1e-9)))
            return lines.joined(separator: "\n")
        }
    }

    /// The voices the corpus is spoken in.
    public static let voices = ["en-us", "en-us+m3", "en-us+f3", "en-us+m5", "en", "en-us+f4"]

    /// Every step's phrasings.
    public static let phrases: [Phrase] = [
        Phrase(step: .menu, text: "book a table", meaning: .menu(.book)),
        Phrase(step: .menu, text: "I'd like to make a reservation", meaning: .menu(.book)),
        Phrase(step: .menu, text: "opening hours", meaning: .menu(.openingHours)),
        Phrase(step: .menu, text: "leave a message", meaning: .menu(.message)),
        Phrase(step: .menu, text: "talk to someone", meaning: .person),
        Phrase(step: .partySize, text: "four", meaning: .partySize(4)),
        Phrase(step: .partySize, text: "a table for four", meaning: .partySize(4)),
        Phrase(step: .partySize, text: "two people", meaning: .partySize(2)),
        Phrase(step: .partySize, text: "six", meaning: .partySize(6)),
        Phrase(step: .partySize, text: "we are three", meaning: .partySize(3)),
        Phrase(step: .day, text: "tomorrow", meaning: .day(.tomorrow)),
        Phrase(step: .day, text: "Friday", meaning: .day(.weekday(5))),
        Phrase(step: .day, text: "on Saturday", meaning: .day(.weekday(6))),
        Phrase(step: .day, text: "December fourth", meaning: .day(.dayOfMonth(month: 12, day: 4))),
        Phrase(step: .day, text: "the twelfth", meaning: .day(.dayOfMonth(month: nil, day: 12))),
        Phrase(step: .time, text: "seven thirty", meaning: .time(hour: 7, minute: 30, meridiem: nil)),
        Phrase(step: .time, text: "half past seven", meaning: .time(hour: 7, minute: 30, meridiem: nil)),
        Phrase(step: .time, text: "seven thirty p.m.", meaning: .time(hour: 7, minute: 30, meridiem: .evening)),
        Phrase(step: .time, text: "eight", meaning: .time(hour: 8, minute: 0, meridiem: nil)),
        Phrase(step: .time, text: "six o'clock", meaning: .time(hour: 6, minute: 0, meridiem: nil)),
        Phrase(step: .confirmation, text: "yes", meaning: .yes),
        Phrase(step: .confirmation, text: "that's right", meaning: .yes),
        Phrase(step: .confirmation, text: "no", meaning: .no),
        Phrase(step: .confirmation, text: "no, change it", meaning: .no),
    ]

    /// The confidence below which an answer is asked again.
    public let minimumConfidence: Double
    let recognizer: LocalRecognizer

    public init(recognizer: LocalRecognizer, minimumConfidence: Double) {
        self.recognizer = recognizer
        self.minimumConfidence = minimumConfidence
    }

    /// Speaks the corpus and decodes every phrase, clean and at 10 dB.
    public func run(noise: NoisyLineCorpus, voices: [String] = Self.voices) async throws -> Results {
        var results = Results()
        var offset = 0
        for voice in voices {
            for phrase in Self.phrases {
                let words = try await LocalVoice.pcm(phrase.text, voice: voice)
                let quiet = [Int16](repeating: 0, count: 2400)
                let clean = quiet + words + quiet
                let gain = Self.callerGain(words)
                let noisy = zip(clean, noise.noise(.restaurant, snr: 10, offset: offset, count: clean.count)).map {
                    Int16(clamping: Int((Double($0) * gain + $1).rounded()))
                }
                offset += clean.count
                let cleanLine = clean.map { Int16(clamping: Int((Double($0) * gain).rounded())) }
                for (isNoisy, samples) in [(false, cleanLine), (true, noisy)] {
                    let result = await recognizer.recognize(MuLaw.encode(samples), step: phrase.step)
                    var score = (isNoisy ? results.noisy : results.clean)[phrase.step] ?? Score()
                    score.said += 1
                    score.audioSeconds += result.audioSeconds
                    score.decodeSeconds += result.decodeTime.seconds
                    if let answer = result.answer, result.confidence >= minimumConfidence {
                        if answer == phrase.meaning {
                            score.understood += 1
                        } else {
                            score.wrongAccepted += 1
                            if phrase.meaning == .no, answer == .yes { results.noTakenForYes += 1 }
                        }
                    } else {
                        score.askedAgain += 1
                    }
                    if isNoisy { results.noisy[phrase.step] = score } else { results.clean[phrase.step] = score }
                }
            }
        }
        return results
    }

    /// The gain that puts espeak's words at the caller's level of the noise corpus.
    static func callerGain(_ words: [Int16]) -> Double {
        Decibels.amplitude(NoisyLineCorpus.callerLevel - NoisyLineCorpus.activeLevel(words))
    }
}
