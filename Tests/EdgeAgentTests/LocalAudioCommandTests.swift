import AudioIO
import Dispatch
import Foundation
import GRDB
import Hummingbird
import LocalStore
import Sync
import TestSupport
import Testing

@testable import EdgeAgent

/// `edge-agent audio devices` and `audio test` against ALSA itself, with no sound card: the
/// speaker and the microphone are ALSA's file plugin over its null device (what is played lands in
/// a file; what is recorded comes from one), set up in an ALSA configuration of the test's own.
@Suite("Local audio commands")
struct LocalAudioCommandTests {
    /// A folder with an ALSA configuration naming `test_speaker` (into `played.raw`) and
    /// `test_microphone` (from `heard.raw`, 8 kHz 16-bit mono).
    final class Rig: Sendable {
        let folder = TemporaryFolder()

        init(heard: [Int16]) throws {
            let configuration = """
                </usr/share/alsa/alsa.conf>
                pcm.test_speaker {
                    type file
                    slave.pcm "null"
                    file "\(folder.file("played.raw"))"
                    format "raw"
                    hint.description "The test's speaker (a file)"
                }
                pcm.test_microphone {
                    type file
                    slave.pcm "null"
                    file "/dev/null"
                    infile "\(folder.file("heard.raw"))"
                    format "raw"
                    hint.description "The test's microphone (a file)"
                }
                """
            try configuration.write(toFile: folder.file("asound.conf"), atomically: true, encoding: .utf8)
            let bytes = heard.withUnsafeBufferPointer { Data(buffer: $0) }
            try bytes.write(to: URL(fileURLWithPath: folder.file("heard.raw")))
        }

        var environment: [String: String] {
            ["ALSA_CONFIG_PATH": folder.file("asound.conf"), "EDGE_DATA_DIR": folder.file("data")]
        }

        /// Runs `edge-agent` (waited for on a thread of its own, see ``CommandLineTests/run(_:environment:in:)``).
        func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws
            -> CommandLineTests.Outcome
        {
            try await CommandLineTests().run(arguments, environment: self.environment.merging(extra) { $1 }, in: folder)
        }

        var played: [Int16] {
            guard let data = FileManager.default.contents(atPath: folder.file("played.raw")) else { return [] }
            return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        }
    }

    /// One second of silence, then a 440 Hz tone at about -20 dBFS.
    static let toneAfterSilence: [Int16] =
        [Int16](repeating: 0, count: 8000)
        + (0..<24000).map { Int16(3276 * sin(2 * Double.pi * 440 * Double($0) / 8000)) }

    @Test("devices: the configured speaker and microphone, with their descriptions, and ALSA's null")
    func devices() async throws {
        let rig = try Rig(heard: [])
        let outcome = try await rig.run(["audio", "devices"])
        #expect(outcome.status == 0)
        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("test_speaker\tplayback+capture\tThe test's speaker (a file)"))
        #expect(lines.contains("test_microphone\tplayback+capture\tThe test's microphone (a file)"))
        #expect(lines.contains { $0.hasPrefix("null\t") })
    }

    @Test("test: the greeting is played through the speaker, the microphone's levels are printed, exit 0")
    func speakerAndMicrophone() async throws {
        let rig = try Rig(heard: Self.toneAfterSilence)
        let outcome = try await rig.run([
            "audio", "test", "--playback", "test_speaker", "--capture", "test_microphone", "--seconds", "3",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        // What was played is the local voice's greeting: seconds of speech, not silence.
        let played = rig.played
        #expect(played.count > 8000)
        let rms = (played.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(played.count, 1))).squareRoot()
        #expect(rms > 300)
        // One line per half second of the three recorded.
        let levels = outcome.standardOutput.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.contains(" s ") }
        #expect(levels.count == 6)
        #expect(outcome.standardOutput.contains("   0.0 s  -96.0"))
        #expect(outcome.standardOutput.contains("   1.0 s  -23.0"))
        #expect(outcome.standardOutput.contains("the microphone hears"))
    }

    @Test("test: a microphone that hears nothing says so and exits 1")
    func silentMicrophone() async throws {
        let rig = try Rig(heard: [Int16](repeating: 0, count: 8000))
        let outcome = try await rig.run([
            "audio", "test", "--playback", "test_speaker", "--capture", "null", "--seconds", "1",
        ])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput.contains("no signal from the microphone"))
    }

    @Test("test: a device that does not exist fails in one line that says what to do")
    func unknownDevice() async throws {
        let rig = try Rig(heard: [])
        let outcome = try await rig.run(["audio", "test", "--playback", "no_such_card", "--seconds", "1"])
        #expect(outcome.status == 1)
        let lines = outcome.standardError.split(separator: "\n").filter { $0.hasPrefix("edge-agent:") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("'no_such_card'") == true)
        #expect(lines.first?.contains("edge-agent audio devices") == true)
    }

    @Test("bad options exit 2", arguments: [["--seconds", "0"], ["--language", "fr"]])
    func badOptions(arguments: [String]) async throws {
        let rig = try Rig(heard: [])
        #expect(try await rig.run(["audio", "test"] + arguments).status == 2)
    }
}

/// `edge-agent talk` end to end with no sound card and no phone line: the microphone is a file
/// holding silence, a caller's sentence and silence again; the speaker is a file; the cloud is the
/// loopback doubles. The call books a table through the same session and tools as a phone call.
@Suite("Talking to the agent through the box's headset")
struct LocalConversationTests {
    @Test("a booking by voice through the headset: one local call, one reservation, the agent heard")
    func booking() async throws {
        let tomorrow = CallTestRig.tomorrow
        let llm = OpenAIChatDouble([
            ScriptedLLM.tool(
                "create_reservation",
                #"{"name":"Ada Lovelace","party_size":2,"date":"\#(tomorrow)","time":"19:00","phone":"+15550001111"}"#),
            ScriptedLLM.tool("end_call", "{}", text: "You're booked, Ada. Goodbye!"),
        ])
        let transcription = TranscriptionDouble([
            "A table for two tomorrow at seven for Ada Lovelace, my number is 555 000 1111."
        ])
        let tts = ElevenLabsDouble()
        let speech = MuLaw.decode(try EdgeAgentTestAudio.speech("en-booking"))
        let microphone =
            [Int16](repeating: 0, count: 8000 * 4) + speech + [Int16](repeating: 0, count: 8000 * 12)
        let rig = try LocalAudioCommandTests.Rig(heard: microphone)
        let doubles = Router()
        llm.register(on: doubles)
        transcription.register(on: doubles)
        tts.register(on: doubles)
        let outcome = try await withLoopbackServer(doubles) { cloud in
            var environment = rig.environment
            environment["OPENAI_BASE_URL"] = cloud.appendingPathComponent("v1").absoluteString
            environment["OPENAI_API_KEY"] = OpenAIChatDouble.apiKey
            environment["ELEVENLABS_BASE_URL"] = cloud.absoluteString
            environment["ELEVENLABS_API_KEY"] = ElevenLabsDouble.apiKey
            environment["EDGE_VOICE_EN"] = "voice-en"
            environment["EDGE_VOICE_ES"] = "voice-es"
            environment["EDGE_RESTAURANT_NAME"] = "Trattoria Roma"
            environment["EDGE_MINIMUM_FREE_DISK_MB"] = "0"
            for day in ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] {
                environment["EDGE_OPENING_HOURS_\(day)"] = "12:00-23:00"
            }
            return try await rig.run(
                ["talk", "--playback", "test_speaker", "--capture", "test_microphone", "--minutes", "1"],
                environment: environment)
        }
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("agent: Thank you for calling Trattoria Roma."))
        #expect(outcome.standardOutput.contains("you: A table for two tomorrow at seven for Ada Lovelace"))
        #expect(outcome.standardOutput.contains("agent: You're booked, Ada. Goodbye!"))
        #expect(outcome.standardOutput.contains(": reservation_created,"))

        let database = try EdgeDatabase(dataDirectory: rig.folder.file("data"), logger: LogCapture().logger)
        let (calls, reservations) = try await database.read { db in
            (try Call.fetchAll(db), try Reservation.fetchAll(db))
        }
        #expect(calls.count == 1)
        #expect(calls.first?.source == "local")
        #expect(calls.first?.status == .completed)
        #expect(calls.first?.outcome == "reservation_created")
        #expect(reservations.count == 1)
        #expect(reservations.first?.name == "Ada Lovelace")
        #expect(reservations.first?.partySize == 2)
        // The speaker played the greeting (twelve words) and the answer (four), all of it: the
        // ElevenLabs double speaks 100 ms a word.
        #expect(rig.played.count == 8 * 1600)
        #expect(transcription.durations.withLockedValue { $0 }.count == 1)
    }
}
