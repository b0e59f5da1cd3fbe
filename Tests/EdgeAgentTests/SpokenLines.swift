import AudioIO
import Foundation

@testable import CallSimulator
@testable import EdgeAgent

/// Caller lines spoken by espeak-ng, phrase by phrase with the pauses a person leaves between
/// sentences, and a transcriber for the speech-to-text doubles that hears exactly the phrases whose
/// audio it was sent, as a real recognizer would: an utterance cut in two by the agent's voice
/// detection is transcribed as two halves, not as the next line of a script.
struct SpokenLines: Sendable {
    /// One phrase of a line.
    struct Phrase: Sendable {
        let text: String
        /// 20 ms frames of the phrase loud enough to be matched.
        let loudFrames: Int
    }

    let language: String
    /// Each line's text, and its audio (8 kHz mu-law, ending in 700 ms of silence).
    let texts: [String]
    let audio: [[UInt8]]
    private let phrases: [Phrase]
    /// A loud frame's samples, to the phrases it occurs in.
    private let index: [[Int16]: [Int]]

    /// Speaks `lines`, each a list of phrases said with `pause` between them.
    init(_ lines: [[String]], language: String, pause: Duration = .milliseconds(320)) throws {
        self.language = language
        var phrases: [Phrase] = []
        var index: [[Int16]: [Int]] = [:]
        var audio: [[UInt8]] = []
        let gap = [UInt8](repeating: MuLaw.silence, count: Int(pause.seconds * 8000))
        for line in lines {
            // Phrases are indexed by the frames of the whole line, as the simulator sends it: 20 ms from
            // the line's first sample.
            var lineAudio: [UInt8] = []
            var spans: [(phrase: Int, range: Range<Int>)] = []
            for (position, text) in line.enumerated() {
                // CallerVoice ends each phrase with 700 ms of silence; the line's own pauses replace it.
                let spoken = Self.trimmed(Array(try CallerVoice.speak(text, language: language).dropLast(700 * 8)))
                if position > 0 { lineAudio += gap }
                spans.append((phrases.count + position, lineAudio.count..<(lineAudio.count + spoken.count)))
                lineAudio += spoken
            }
            var loud = [Int](repeating: 0, count: line.count)
            for (number, frame) in Self.frames(lineAudio.map(MuLaw.decode)).enumerated() where Self.isLoud(frame) {
                let middle = number * 160 + 80
                guard let span = spans.first(where: { $0.range.contains(middle) }) else { continue }
                index[frame, default: []].append(span.phrase)
                loud[span.phrase - phrases.count] += 1
            }
            for (position, text) in line.enumerated() {
                phrases.append(Phrase(text: text, loudFrames: loud[position]))
            }
            audio.append(lineAudio + [UInt8](repeating: MuLaw.silence, count: 700 * 8))
        }
        self.texts = lines.map { $0.joined(separator: " ") }
        self.audio = audio
        self.phrases = phrases
        self.index = index
    }

    /// The words of the phrases mostly present in `samples` (16-bit, 8 kHz), in the order spoken.
    func transcript(of samples: [Int16]) -> String {
        var matched = [Int](repeating: 0, count: phrases.count)
        var seen = Set<[Int16]>()
        for frame in Self.frames(samples) where Self.isLoud(frame) && seen.insert(frame).inserted {
            for phrase in Set(index[frame] ?? []) { matched[phrase] += 1 }
        }
        return phrases.indices.filter { phrases[$0].loudFrames > 0 && matched[$0] * 2 >= phrases[$0].loudFrames }
            .map { phrases[$0].text }.joined(separator: " ")
    }

    /// ``transcript(of:)`` for raw mu-law, as Deepgram is sent it.
    func transcript(ofMuLaw bytes: [UInt8]) -> String {
        transcript(of: bytes.map(MuLaw.decode))
    }

    /// Audio without the quiet espeak-ng leaves before and after the words (40 ms kept each side),
    /// so the pause between phrases is the one asked for.
    static func trimmed(_ audio: [UInt8]) -> [UInt8] {
        let samples = audio.map(MuLaw.decode)
        guard let first = samples.firstIndex(where: { abs(Int($0)) > 1500 }),
            let last = samples.lastIndex(where: { abs(Int($0)) > 1500 })
        else { return audio }
        return Array(audio[max(0, first - 320)...min(audio.count - 1, last + 320)])
    }

    static func frames(_ samples: [Int16]) -> [[Int16]] {
        stride(from: 0, to: samples.count - samples.count % 160, by: 160).map { Array(samples[$0..<($0 + 160)]) }
    }

    static func isLoud(_ frame: [Int16]) -> Bool {
        frame.contains { abs(Int($0)) > 1500 }
    }
}
