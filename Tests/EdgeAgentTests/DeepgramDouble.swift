import AsyncHandoff
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

@testable import CallSimulator
@testable import EdgeAgent

/// A local stand-in for Deepgram's live `/v1/listen` WebSocket: checks `Authorization: Token` and the
/// query, takes binary audio, answers interim results while audio flows, and on `Finalize` the final
/// result of the next scripted transcript with `from_finalize: true` and its language; on
/// `CloseStream` a `Metadata` message, then it closes.
final class DeepgramDouble: Sendable {
    static let apiKey = "dg-test-key"
    let transcripts: NIOLockedValueBox<[(text: String, language: String)]>
    let audioBytes = NIOLockedValueBox<[Int]>([])
    let queries = NIOLockedValueBox<[String]>([])
    /// When set, the final result is what these lines' phrases make of the audio received.
    let spoken: SpokenLines?

    init(_ transcripts: [(text: String, language: String)]) {
        self.transcripts = NIOLockedValueBox(transcripts)
        self.spoken = nil
    }

    /// A double that transcribes what it hears of `spoken`.
    init(hearing spoken: SpokenLines) {
        self.transcripts = NIOLockedValueBox([])
        self.spoken = spoken
    }

    func result(_ text: String, language: String, final: Bool, fromFinalize: Bool) -> String {
        let object: [String: Any] = [
            "type": "Results", "channel_index": [0, 1], "duration": 1.0, "start": 0.0, "is_final": final,
            "speech_final": final, "from_finalize": fromFinalize,
            "channel": [
                "alternatives": [["transcript": text, "confidence": 0.97, "languages": [language], "words": []]]
            ],
            "metadata": [
                "request_id": "00000000-0000-4000-8000-000000000001", "model_info": ["name": "general-nova-3"],
            ],
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    var router: Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/v1/listen") { request, _ in
            guard request.headers[.authorization] == "Token \(Self.apiKey)" else { return .dontUpgrade }
            self.queries.withLockedValue { $0.append(request.uri.query ?? "") }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, _ in
            var bytes = 0
            var frames = 0
            var audio: [UInt8] = []
            for try await message in inbound.messages(maxSize: 1 << 20) {
                switch message {
                case .binary(let buffer):
                    bytes += buffer.readableBytes
                    if self.spoken != nil { audio += buffer.readableBytesView }
                    frames += 1
                    if frames % 25 == 0 {
                        try await outbound.write(
                            .text(self.result("…", language: "en", final: false, fromFinalize: false)))
                    }
                case .text(let text) where text.contains("\"Finalize\""):
                    self.audioBytes.withLockedValue { $0.append(bytes) }
                    let next: (text: String, language: String) =
                        if let spoken = self.spoken {
                            (spoken.transcript(ofMuLaw: audio), spoken.language)
                        } else {
                            self.transcripts.withLockedValue {
                                $0.isEmpty ? (text: "", language: "en") : $0.removeFirst()
                            }
                        }
                    audio.removeAll()
                    try await outbound.write(
                        .text(self.result(next.text, language: next.language, final: true, fromFinalize: true)))
                case .text(let text) where text.contains("\"CloseStream\""):
                    try await outbound.write(
                        .text(
                            #"{"type":"Metadata","transaction_key":"deprecated","request_id":"00000000-0000-4000-8000-000000000001","sha256":"0","created":"2026-12-15T19:04:11.202Z","duration":1.0,"channels":1}"#
                        ))
                    return
                default:
                    continue
                }
            }
        }
        return router
    }

    /// Runs the double on a loopback port for `body`.
    func serve<T: Sendable>(_ body: @Sendable (URL) async throws -> T) async throws -> T {
        let port = Handoff<Int?>()
        let app = Application(
            router: Router(), server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { port.send($0.localAddress!.port!) }, logger: LogCapture().logger)
        return try await DemoRunner.runWhileServing(app, port: port, logger: LogCapture().logger) { url in
            try await body(URL(string: "ws://127.0.0.1:\(url.port!)")!)
        }
    }
}

@Suite("Deepgram live recognition")
struct DeepgramRecognizerTests {
    @Test("audio streams out as it arrives, and Finalize brings back the utterance and its language")
    func utterance() async throws {
        let double = DeepgramDouble([("Hola, quisiera una mesa para cuatro.", "es")])
        try await double.serve { url in
            // What is checked is the exchange, not Deepgram's pace: a busy machine may take longer
            // than the product's 3 s to bring the final result back.
            let recognizer = DeepgramRecognizer(
                baseURL: url, apiKey: Secret(DeepgramDouble.apiKey), finalizeTimeout: .seconds(60),
                logger: LogCapture().logger)
            let utterance = try await recognizer.startUtterance(languageHint: "en")
            let speech = try EdgeAgentTestAudio.speech("es-booking")
            for start in stride(from: 0, to: speech.count, by: 160) {
                await utterance.send(Array(speech[start..<min(start + 160, speech.count)]))
            }
            let transcript = try await utterance.finish()
            #expect(transcript == Transcript(text: "Hola, quisiera una mesa para cuatro.", language: "es"))
            #expect(double.audioBytes.withLockedValue { $0 } == [speech.count])
            let query = try #require(double.queries.withLockedValue { $0 }.first)
            for parameter in [
                "encoding=mulaw", "sample_rate=8000", "channels=1", "language=multi", "interim_results=true",
            ] {
                #expect(query.contains(parameter), "\(parameter)")
            }
        }
    }

    @Test("a refused key is a clear error, not a hang, and no key reaches the log")
    func refused() async throws {
        let double = DeepgramDouble([])
        let logs = LogCapture()
        try await double.serve { url in
            let recognizer = DeepgramRecognizer(baseURL: url, apiKey: Secret("dg-wrong-key"), logger: logs.logger)
            let utterance = try await recognizer.startUtterance(languageHint: nil)
            await utterance.send([UInt8](repeating: 0xFF, count: 160))
            await #expect(throws: SpeechRecognitionError.self) { try await utterance.finish() }
        }
        #expect(!logs.all.joined().contains("dg-wrong-key"))
    }
}
