import AudioIO
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Testing

@testable import EdgeAgent

@Suite("Local voice")
struct LocalVoiceTests {
    static func speak(_ synthesizer: some SpeechSynthesizer, _ text: String, language: String) async throws -> [UInt8] {
        var audio: [UInt8] = []
        for try await chunk in synthesizer.synthesize(text, language: language) { audio += chunk }
        return audio
    }

    @Test(
        "espeak-ng speaks both languages as telephone audio the voice detector hears as one utterance",
        arguments: [
            ("Your table for four is booked for tomorrow.", "en"), ("Su mesa para cuatro está reservada.", "es"),
        ])
    func speaks(text: String, language: String) async throws {
        let audio = try await Self.speak(LocalVoice(logger: LogCapture().logger), text, language: language)
        let seconds = Double(audio.count) / 8000
        #expect((1.0...6.0).contains(seconds), "\(seconds) s")
        var detector = VoiceActivityDetector()
        var utterances = 0
        for frame in MuLawFrame.frames(from: audio + [UInt8](repeating: MuLaw.silence, count: 8000)) {
            if case .utteranceEnded = detector.process(frame.bytes) { utterances += 1 }
        }
        #expect(utterances >= 1)
    }

    @Test("calls from many tasks at once are all spoken (espeak-ng runs on one thread)")
    func concurrent() async throws {
        let voice = LocalVoice(logger: LogCapture().logger)
        let lengths = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<6 {
                group.addTask { try await Self.speak(voice, "Table number \(index).", language: "en").count }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(lengths.count == 6)
        #expect(lengths.allSatisfy { $0 > 4000 })
    }

    /// The real local voice, counting what it is asked to speak.
    final class CountingVoice: SpeechSynthesizer {
        let voice = LocalVoice(logger: LogCapture().logger)
        let spoken = NIOLockedValueBox<[String]>([])

        func synthesize(_ text: String, language: String) -> AsyncThrowingStream<[UInt8], any Error> {
            spoken.withLockedValue { $0.append(text) }
            return voice.synthesize(text, language: language)
        }

        /// A speech chain with no cloud voice and no cache: every line is this voice's.
        func localOnlySpeech() -> SpeechOutput {
            SpeechOutput(
                provider: nil, cache: nil, localVoice: self, metrics: AgentMetrics(), logger: LogCapture().logger)
        }
    }

    @Test("lines made ready ahead play from memory; a line with personal data is spoken afresh each time")
    func preparedLines() async throws {
        let voice = CountingVoice()
        let speech = voice.localOnlySpeech()
        let hold = Utterance("Please hold on a moment.", language: "en", pinned: true)
        let espera = Utterance("Un momento, por favor.", language: "es", pinned: true)
        let personal = Utterance("Your table, Ada Lovelace.", language: "en", cacheable: false)
        await speech.prepareLocalVoice([hold, espera, personal])
        #expect(voice.spoken.withLockedValue { $0 } == [hold.text, espera.text])

        let heard = try await PhraseCacheRig.audio(speech.speak(hold))
        #expect(heard.count > 4000)
        #expect(try await PhraseCacheRig.audio(speech.speak(hold)) == heard)
        await speech.prepareLocalVoice([hold])
        _ = try await PhraseCacheRig.audio(speech.speak(personal))
        _ = try await PhraseCacheRig.audio(speech.speak(personal))
        #expect(voice.spoken.withLockedValue { $0 } == [hold.text, espera.text, personal.text, personal.text])
    }

    @Test("a line cut off while the local voice speaks it is not kept: the next caller hears it whole")
    func cancelledLineNotKept() async throws {
        let voice = CountingVoice()
        let speech = voice.localOnlySpeech()
        let hold = Utterance("Please hold on a moment.", language: "en", pinned: true)
        let cut = Task { try await PhraseCacheRig.audio(speech.speak(hold)) }
        cut.cancel()
        _ = try? await cut.value
        let heard = try await PhraseCacheRig.audio(speech.speak(hold))
        #expect(heard.count > 4000)
        // Prepared at the same time by many calls, a line is rendered once.
        let other = Utterance("Un momento, por favor.", language: "es", pinned: true)
        let before = voice.spoken.withLockedValue { $0.filter { $0 == other.text }.count }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { await speech.prepareLocalVoice([other]) } }
        }
        #expect(voice.spoken.withLockedValue { $0.filter { $0 == other.text }.count } - before <= 1)
        #expect(try await PhraseCacheRig.audio(speech.speak(other)).count > 4000)
    }

    @Test("when ElevenLabs fails, the caller hears the local voice and the fallback is counted")
    func fallback() async throws {
        let failing = ElevenLabsDouble(failWith: 500)
        let router = Router()
        failing.register(on: router)
        let metrics = AgentMetrics()
        let logs = LogCapture()
        let audio = try await withLoopbackServer(router) { url in
            let client = ElevenLabsClient(
                http: .shared, baseURL: url, apiKey: Secret(ElevenLabsDouble.apiKey), voices: ["en": "v"],
                logger: logs.logger)
            let speech = SpeechOutput(
                provider: .init(synthesizer: client, voices: client.identities, maxCharacters: 5000), cache: nil,
                localVoice: LocalVoice(logger: logs.logger), metrics: metrics, logger: logs.logger)
            var audio: [UInt8] = []
            for try await chunk in speech.speak(Utterance("One moment please.", language: "en")) { audio += chunk }
            return audio
        }
        #expect(audio.count > 4000)
        #expect(failing.requests.withLockedValue { $0.count } == 1)
        #expect(metrics.exposition().contains("edge_tts_local_fallbacks_total 1"))
        #expect(logs.all.contains { $0.contains("the cloud voice failed") })
    }
}
