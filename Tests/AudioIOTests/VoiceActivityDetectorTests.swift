import Foundation
import Testing

@testable import AudioIO

/// Real speech, not sine waves: the fixtures are espeak-ng sentences (English and Spanish, with a
/// comma pause each) converted to 8 kHz mu-law by sox, as a caller's audio reaches the agent.
@Suite("Voice activity and end of utterance")
struct VoiceActivityDetectorTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/speech/\(name).ulaw")
        return Array(try Data(contentsOf: url))
    }

    static func silence(milliseconds: Int) -> [UInt8] {
        [UInt8](repeating: MuLaw.silence, count: milliseconds * 8)
    }

    /// Deterministic white noise at roughly `decibels` dBFS.
    static func noise(milliseconds: Int, decibels: Double, seed: UInt64 = 42) -> [UInt8] {
        var state = seed
        let amplitude = 32768 * pow(10, decibels / 20) * 1.7
        return (0..<(milliseconds * 8)).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let uniform = Double(state >> 11) / Double(1 << 53) * 2 - 1
            return MuLaw.encode(Int16(max(-32767, min(32767, uniform * amplitude))))
        }
    }

    static func mix(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        zip(a, b).map { MuLaw.encode(Int16(clamping: Int(MuLaw.decode($0)) + Int(MuLaw.decode($1)))) }
    }

    static func run(_ audio: [UInt8]) -> [(frame: Int, event: VoiceActivityDetector.Event)] {
        var detector = VoiceActivityDetector()
        var events: [(Int, VoiceActivityDetector.Event)] = []
        for (index, frame) in MuLawFrame.frames(from: audio).enumerated() {
            if let event = detector.process(frame.bytes) { events.append((index, event)) }
        }
        return events
    }

    @Test("one sentence with a comma pause is one utterance, ended soon after the last word", arguments: ["en", "es"])
    func oneSentence(language: String) throws {
        let speech = try Self.fixture("\(language)-booking")
        let events = Self.run(Self.silence(milliseconds: 500) + speech + Self.silence(milliseconds: 1500))
        #expect(events.count == 2, "\(events.map(\.event))")
        guard events.count == 2, case .speechStarted(let onset) = events[0].event,
            case .utteranceEnded(let start, let end) = events[1].event
        else { return }
        // The sentence starts within a few frames of 500 ms (the voiced onset: the "h" of "Hi" is not
        // voiced) and its last loud frame is near 500 ms + its length.
        #expect((25...30).contains(onset))
        #expect(start == onset)
        let lastSpeechFrame = 25 + (language == "en" ? 183 : 178)
        #expect(abs(end - 1 - lastSpeechFrame) <= 3, "end \(end)")
        // Reported no later than the longest end silence after the speech stops.
        #expect((events[1].frame - end) * 20 <= 700)
        // The onset is reported within 160 ms of the first loud frame.
        #expect((events[0].frame - 25) * 20 <= 160)
    }

    @Test("two sentences a second apart are two utterances")
    func twoSentences() throws {
        let english = try Self.fixture("en-booking")
        let events = Self.run(english + Self.silence(milliseconds: 1000) + english + Self.silence(milliseconds: 1000))
        let ends = events.filter { if case .utteranceEnded = $0.event { true } else { false } }
        #expect(ends.count == 2)
    }

    @Test("steady background noise is not speech, and speech over it is still found")
    func noise() throws {
        #expect(Self.run(Self.noise(milliseconds: 3000, decibels: -40)).isEmpty)
        #expect(Self.run(Self.noise(milliseconds: 3000, decibels: -55)).isEmpty)
        let speech =
            Self.silence(milliseconds: 1000) + (try Self.fixture("en-booking")) + Self.silence(milliseconds: 1500)
        let noisy = Self.mix(speech, Self.noise(milliseconds: speech.count / 8, decibels: -42))
        let ends = Self.run(noisy).filter { if case .utteranceEnded = $0.event { true } else { false } }
        #expect(ends.count == 1)
    }

    @Test("a click is not speech")
    func click() {
        var audio = Self.silence(milliseconds: 1000)
        for index in 4000..<4040 { audio[index] = MuLaw.encode(20000) }
        #expect(Self.run(audio + Self.silence(milliseconds: 1000)).isEmpty)
    }

    @Test("the end silence adapts to the pauses in the utterance, within its bounds")
    func adaptiveEndSilence() throws {
        var detector = VoiceActivityDetector()
        let speech = try Self.fixture("es-booking")
        // A first phrase, a 300 ms pause, and the start of the next.
        let audio = Array(speech.prefix(30 * 160)) + Self.silence(milliseconds: 300) + speech[(30 * 160)..<(50 * 160)]
        for frame in MuLawFrame.frames(from: audio) { _ = detector.process(frame.bytes) }
        #expect(detector.isSpeaking)
        #expect(detector.currentEndSilence > detector.settings.minimumEndSilence)
        #expect(detector.currentEndSilence <= detector.settings.maximumEndSilence)
        #expect(VoiceActivityDetector().currentEndSilence == VoiceActivityDetector.Settings().minimumEndSilence)
    }

    /// A chord of low notes with harmonics, as music in a dining room: voiced, and never silent.
    static func music(milliseconds: Int, decibels: Double, beat: Bool = true) -> [UInt8] {
        let amplitude = 32768 * pow(10, decibels / 20) * 0.6
        return (0..<(milliseconds * 8)).map { index in
            let time = Double(index) / 8000
            let chord = [196.0, 247, 294].reduce(0.0) { $0 + sin(2 * .pi * $1 * time) + 0.4 * sin(4 * .pi * $1 * time) }
            let pulse = beat ? 0.6 + 0.4 * abs(sin(.pi * time * 2)) : 1
            return MuLaw.encode(Int16(clamping: Int(chord * pulse * amplitude / 2)))
        }
    }

    @Test("music that comes up after a quiet start lifts the floor: no utterance is held open by it")
    func musicComesUp() throws {
        let audio = Self.silence(milliseconds: 1000) + Self.music(milliseconds: 8000, decibels: -35)
        var detector = VoiceActivityDetector()
        var events: [VoiceActivityDetector.Event] = []
        for frame in MuLawFrame.frames(from: audio) {
            if let event = detector.process(frame.bytes) { events.append(event) }
        }
        // It may start as a sound, but the floor rises to it within the window and the sound ends.
        #expect(!detector.isSpeaking, "\(events)")
        #expect(events.count <= 2, "\(events)")
        // A caller speaking over the same music is then heard, once.
        let speech = try Self.fixture("en-booking")
        let noisy = Self.mix(
            speech + Self.silence(milliseconds: 1500),
            Array(Self.music(milliseconds: 16000, decibels: -35).suffix(speech.count + 12000)))
        var ends = 0
        for frame in MuLawFrame.frames(from: noisy) {
            if case .utteranceEnded = detector.process(frame.bytes) { ends += 1 }
        }
        #expect(ends == 1)
    }

    @Test("a steady chord after a quiet start: the old detector holds an utterance open, the new one does not")
    func steadyMusic() {
        let audio = Self.silence(milliseconds: 1000) + Self.music(milliseconds: 8000, decibels: -35, beat: false)
        var original = VoiceActivityDetector(settings: .original)
        var detector = VoiceActivityDetector()
        for frame in MuLawFrame.frames(from: audio) {
            _ = original.process(frame.bytes)
            _ = detector.process(frame.bytes)
        }
        #expect(original.isSpeaking)
        #expect(!detector.isSpeaking)
    }

    @Test("crockery ringing on a quiet line is not speech: it has no voice below 1 kHz")
    func clatterIsNotSpeech() {
        var audio = Self.silence(milliseconds: 500)
        for _ in 0..<4 {
            audio += CallerListenerTests.clatter(peak: 12_000).map(MuLaw.encode) + Self.silence(milliseconds: 600)
        }
        #expect(Self.run(audio).isEmpty)
    }
}
