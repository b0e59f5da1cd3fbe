import AsyncHTTPClient
import AsyncHandoff
import AudioIO
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import Testing

@testable import EdgeAgent

/// A local stand-in for an OpenAI-compatible `POST /v1/audio/transcriptions`: checks the Bearer key
/// and the multipart form (model, a WAV file), and answers `{"text": ...}` with the next scripted
/// transcript, as a recognizer would for each utterance in turn.
final class TranscriptionDouble: Sendable {
    let transcripts: NIOLockedValueBox<[String]>
    /// Seconds of audio in each request.
    let durations = NIOLockedValueBox<[Double]>([])
    let faults: FaultInjection
    /// When set, each transcript is what these lines' phrases make of the audio received.
    let spoken: SpokenLines?

    init(_ transcripts: [String], faults: FaultInjection = FaultInjection()) {
        self.transcripts = NIOLockedValueBox(transcripts)
        self.faults = faults
        self.spoken = nil
    }

    /// A double that transcribes what it hears of `spoken`.
    init(hearing spoken: SpokenLines) {
        self.transcripts = NIOLockedValueBox([])
        self.faults = FaultInjection()
        self.spoken = spoken
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/audio/transcriptions") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(OpenAIChatDouble.apiKey)" else {
                return OpenAIChatDouble.json(
                    401, #"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error"}}"#)
            }
            guard let contentType = request.headers[.contentType],
                contentType.hasPrefix("multipart/form-data; boundary=")
            else { return OpenAIChatDouble.json(400, #"{"error":{"message":"expected multipart/form-data"}}"#) }
            let body = Array(try await request.body.collect(upTo: 10 << 20).readableBytesView)
            let text = String(decoding: body, as: UTF8.self)
            guard text.contains("name=\"model\""), text.contains("filename=\"utterance.wav\""),
                let riff = body.firstRange(of: Array("RIFF".utf8)),
                let data = body[riff.lowerBound...].firstRange(of: Array("data".utf8))
            else { return OpenAIChatDouble.json(400, #"{"error":{"message":"expected model and a WAV file"}}"#) }
            let size = body[data.upperBound..<(data.upperBound + 4)].enumerated().reduce(0) {
                $0 | Int($1.element) << (8 * $1.offset)
            }
            self.durations.withLockedValue { $0.append(Double(size) / 16000) }
            if let faulty = await self.faults.response(
                errorBody: #"{"error":{"message":"The server is overloaded.","type":"server_error"}}"#)
            {
                return faulty
            }
            let next: String
            if let spoken = self.spoken {
                let start = data.upperBound + 4
                let end = min(body.count, start + size)
                let samples = stride(from: start, to: end - 1, by: 2).map {
                    Int16(bitPattern: UInt16(body[$0]) | UInt16(body[$0 + 1]) << 8)
                }
                next = spoken.transcript(of: samples)
            } else {
                next = self.transcripts.withLockedValue { $0.isEmpty ? "" : $0.removeFirst() }
            }
            let json = try JSONSerialization.data(withJSONObject: ["text": next])
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
    }
}

/// A local stand-in for ElevenLabs `POST /v1/text-to-speech/{voice}/stream?output_format=ulaw_8000`:
/// checks `xi-api-key`, the query and the JSON body, and streams raw mu-law audio, 100 ms per word.
/// Faults can be injected (and changed mid-test) to prove the agent copes with each one.
final class ElevenLabsDouble: Sendable {
    /// How the double misbehaves.
    enum Fault: Sendable, Equatable {
        case none
        /// Answers this status with ElevenLabs' JSON error body.
        case status(Int)
        /// Never answers, until the test releases ``hold``.
        case hang
        /// Answers 200 with an HTML page instead of audio.
        case garbage
        /// Answers 200, then sends a byte every 300 ms.
        case drip
        /// Streams a text that starts with this at half real time (1,000 bytes, 125 ms of audio, every
        /// 250 ms), as ElevenLabs under load; other texts as usual.
        case slow(textsStartingWith: String)
    }

    static let apiKey = "el-test-key"
    let requests = NIOLockedValueBox<[(voice: String, text: String, language: String?)]>([])
    /// The `voice_settings` each request asked for, by its text.
    let voiceSettings = NIOLockedValueBox<[(text: String, stability: Double?, speed: Double?)]>([])
    let fault: NIOLockedValueBox<Fault>
    /// Requests in progress now, and the most at once.
    let concurrency = NIOLockedValueBox<(now: Int, most: Int)>((0, 0))
    /// Released at the end of a test so hanging requests end and the server can stop.
    let hold = Gate()
    /// When set, every answer waits for it before sending audio (to line up concurrent requests).
    let gate: Gate?
    /// Opened when the first request arrives.
    let arrived = Gate()

    /// When set, ``gate`` opens by itself once this many requests are in progress at once.
    let openGateAt: Int?

    init(failWith: Int? = nil, fault: Fault = .none, gate: Gate? = nil, openGateAt: Int? = nil) {
        self.fault = NIOLockedValueBox(failWith.map { .status($0) } ?? fault)
        self.gate = gate
        self.openGateAt = openGateAt
    }

    var requestCount: Int { requests.withLockedValue { $0.count } }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/text-to-speech/:voice/stream") { request, context -> Response in
            guard request.headers[HTTPField.Name("xi-api-key")!] == Self.apiKey else {
                return OpenAIChatDouble.json(
                    401, #"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#)
            }
            guard request.uri.queryParameters["output_format"] == "ulaw_8000" else {
                return OpenAIChatDouble.json(400, #"{"detail":{"status":"bad_format","message":"unexpected format"}}"#)
            }
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
                let text = object["text"] as? String, object["model_id"] is String
            else {
                return OpenAIChatDouble.json(
                    422, #"{"detail":[{"loc":["body","text"],"msg":"field required","type":"value_error.missing"}]}"#)
            }
            let voice = context.parameters.get("voice") ?? ""
            self.requests.withLockedValue { $0.append((voice, text, object["language_code"] as? String)) }
            let settings = object["voice_settings"] as? [String: Any]
            self.voiceSettings.withLockedValue {
                $0.append((text, settings?["stability"] as? Double, settings?["speed"] as? Double))
            }
            let inProgress = self.concurrency.withLockedValue {
                $0.now += 1
                $0.most = max($0.most, $0.now)
                return $0.now
            }
            if let threshold = self.openGateAt, inProgress >= threshold { self.gate?.open() }
            defer { self.concurrency.withLockedValue { $0.now -= 1 } }
            self.arrived.open()
            if let gate = self.gate { await gate.wait() }
            let fault = self.fault.withLockedValue { $0 }
            switch fault {
            case .none, .slow:
                break
            case .status(let status):
                return OpenAIChatDouble.json(
                    status, #"{"detail":{"status":"system_busy","message":"The system is busy"}}"#)
            case .hang:
                await self.hold.wait()
                return OpenAIChatDouble.json(504, #"{"detail":{"status":"timeout","message":"late"}}"#)
            case .garbage:
                return Response(
                    status: .ok, headers: [.contentType: "text/html"],
                    body: .init(byteBuffer: ByteBuffer(string: "<html><body>Bad gateway</body></html>")))
            case .drip:
                return Response(
                    status: .ok, headers: [.contentType: "audio/basic"],
                    body: .init { writer in
                        for _ in 0..<50 {
                            try await writer.write(ByteBuffer(bytes: [0xFF]))
                            try await Task.sleep(for: .milliseconds(300))
                        }
                        try await writer.finish(nil)
                    })
            }
            let slow = if case .slow(let prefix) = fault { text.hasPrefix(prefix) } else { false }
            let words = max(1, text.split(separator: " ").count)
            let audio = Self.audio(milliseconds: words * 100)
            return Response(
                status: .ok, headers: [.contentType: "audio/basic"],
                body: .init { writer in
                    // Chunks of 1,000 bytes, not frame-aligned, as a real stream would arrive.
                    var index = 0
                    while index < audio.count {
                        let end = min(index + 1000, audio.count)
                        try await writer.write(ByteBuffer(bytes: audio[index..<end]))
                        index = end
                        if slow && index < audio.count { try await Task.sleep(for: .milliseconds(250)) }
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// A 400 Hz tone in mu-law.
    static func audio(milliseconds: Int) -> [UInt8] {
        (0..<(milliseconds * 8)).map { index in
            EdgeAgentTestAudio.encode(8000 * sin(Double(index) * 2 * .pi * 400 / 8000))
        }
    }
}

enum EdgeAgentTestAudio {
    static func encode(_ sample: Double) -> UInt8 { MuLaw.encode(Int16(sample)) }

    /// A speech fixture (`Tests/Fixtures/speech`).
    static func speech(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/speech/\(name).ulaw")
        return Array(try Data(contentsOf: url))
    }

    /// A plate set down hard near the phone: a click and two damped partials at 2.2 and 3.1 kHz
    /// (250 ms, peaking about 9 dB below full scale, louder than the caller's speech).
    static func clatter() -> [UInt8] {
        (0..<2000).map { index in
            let time = Double(index) / 8000
            let ring =
                sin(2 * .pi * 2200 * time) * exp(-time / 0.06) + 0.7 * sin(2 * .pi * 3100 * time) * exp(-time / 0.04)
            let click = index < 24 ? (index % 2 == 0 ? 1.0 : -1.0) * exp(-Double(index) / 8) : 0
            return encode((ring + click) * 12_000)
        }
    }
}

@Suite("ElevenLabs client")
struct ElevenLabsClientTests {
    func client(_ url: URL, key: String = ElevenLabsDouble.apiKey, logs: LogCapture) -> ElevenLabsClient {
        ElevenLabsClient(
            http: .shared, baseURL: url, apiKey: Secret(key), voices: ["en": "voice-en", "es": "voice-es"],
            logger: logs.logger)
    }

    @Test("audio streams back as raw mu-law, whatever the chunk sizes, in the caller's voice")
    func synthesize() async throws {
        let double = ElevenLabsDouble()
        let router = Router()
        double.register(on: router)
        let audio = try await withLoopbackServer(router) { url in
            var bytes: [UInt8] = []
            for try await chunk in client(url, logs: LogCapture()).synthesize("Hola a todos", language: "es") {
                bytes += chunk
            }
            return bytes
        }
        #expect(audio == ElevenLabsDouble.audio(milliseconds: 300))
        #expect(double.requests.withLockedValue { $0.map(\.voice) } == ["voice-es"])
        #expect(double.requests.withLockedValue { $0.map(\.language) } == ["es"])
    }

    @Test("errors carry ElevenLabs' status and code; the key is never logged")
    func errors() async throws {
        let logs = LogCapture()
        let busy = ElevenLabsDouble(failWith: 429)
        let router = Router()
        busy.register(on: router)
        try await withLoopbackServer(router) { url in
            await #expect {
                for try await _ in client(url, logs: logs).synthesize("Hi", language: "en") {}
            } throws: { error in
                guard let error = error as? SpeechSynthesisError else { return false }
                return error.status == 429 && error.providerCode == "system_busy" && error.isRetryable
            }
            await #expect {
                for try await _ in client(url, key: "wrong-key", logs: logs).synthesize("Hi", language: "en") {}
            } throws: { ($0 as? SpeechSynthesisError)?.providerCode == "invalid_api_key" }
        }
        #expect(!logs.all.joined().contains(ElevenLabsDouble.apiKey))
    }

    @Test("a WAV header, if a provider sends one, is not played as audio")
    func wavHeaderSkipped() {
        var skipper = WAVHeaderSkipper()
        let wav = OpenAITranscriptionClient.wav([0xFF, 0xFF])
        // The WAV's samples are 16-bit; what matters is that nothing of the header comes through.
        #expect(skipper.audio(in: Array(wav.prefix(10))) == [])
        #expect(skipper.audio(in: Array(wav.dropFirst(10))) == Array(wav.dropFirst(44)))
        var raw = WAVHeaderSkipper()
        #expect(raw.audio(in: [0xFF, 0x7F, 0x00, 0x01, 0x02]) == [0xFF, 0x7F, 0x00, 0x01, 0x02])
    }
}
