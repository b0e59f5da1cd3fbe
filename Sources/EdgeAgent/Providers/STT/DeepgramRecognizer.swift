public import Foundation
import HTTPTypes
import HummingbirdWSClient
public import Logging
import NIOCore
import Synchronization

/// Deepgram live speech-to-text over WebSocket: the caller's mu-law 8 kHz frames go out as binary
/// messages as they arrive, with interim and final results coming back and the language detected
/// (`language=multi`). Each utterance gets its own stream, opened when the caller starts talking (so
/// the handshake overlaps their speech) and finalised with `Finalize` when the local detector hears
/// the end: the `from_finalize` result closes the turn at once.
public struct DeepgramRecognizer: SpeechRecognizer {
    let baseURL: URL
    let apiKey: Secret
    let model: String
    /// How long `finish()` waits for the final result after `Finalize`.
    let finalizeTimeout: Duration
    let logger: Logger

    public init(
        baseURL: URL, apiKey: Secret, model: String = "nova-3", finalizeTimeout: Duration = .seconds(3), logger: Logger
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.model = model
        self.finalizeTimeout = finalizeTimeout
        self.logger = logger
    }

    /// The `/v1/listen` URL with the parameters for Twilio audio and turn-taking.
    var listenURL: String {
        baseURL.joining(
            "/v1/listen?model=\(model)&language=multi&encoding=mulaw&sample_rate=8000&channels=1"
                + "&interim_results=true&endpointing=300&utterance_end_ms=1000&vad_events=true&punctuate=true&smart_format=true"
        )
    }

    public func startUtterance(languageHint: String?) async throws -> any UtteranceRecognition {
        DeepgramUtterance(recognizer: self)
    }
}

/// One utterance streamed to Deepgram.
final class DeepgramUtterance: UtteranceRecognition {
    private let audio: AsyncStream<[UInt8]>.Continuation
    private let task: Task<Transcript, any Error>
    private let timeout: Duration

    init(recognizer: DeepgramRecognizer) {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        audio = continuation
        timeout = recognizer.finalizeTimeout
        task = Task { try await Self.stream(stream, recognizer: recognizer) }
    }

    func send(_ bytes: [UInt8]) async {
        audio.yield(bytes)
    }

    func finish() async throws -> Transcript {
        audio.finish()
        let task = self.task
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: Transcript.self) { group in
            group.addTask { try await task.value }
            group.addTask {
                try await Task.sleep(for: timeout)
                task.cancel()
                throw SpeechRecognitionError(status: nil, message: "Deepgram sent no final result in time")
            }
            let transcript = try await group.next()!
            group.cancelAll()
            return transcript
        }
    }

    func cancel() async {
        audio.finish()
        task.cancel()
    }

    /// Runs the WebSocket: audio out, results in, until the result of `Finalize`.
    private static func stream(_ audio: AsyncStream<[UInt8]>, recognizer: DeepgramRecognizer) async throws -> Transcript
    {
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders[HTTPField.Name("Authorization")!] = "Token \(recognizer.apiKey.value)"
        let result = Locked<Result<Transcript, any Error>?>(nil)
        do {
            try await WebSocketClient.connect(
                url: recognizer.listenURL, configuration: configuration, logger: recognizer.logger
            ) { inbound, outbound, _ in
                let finalizeSent = Locked(false)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await frame in audio { try await outbound.write(.binary(ByteBuffer(bytes: frame))) }
                        finalizeSent.withLock { $0 = true }
                        try await outbound.write(.text(#"{"type":"Finalize"}"#))
                    }
                    var finals: [String] = []
                    var languages: [String] = []
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message,
                            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                        else { continue }
                        switch object["type"] as? String {
                        case "Results":
                            let alternative =
                                ((object["channel"] as? [String: Any])?["alternatives"] as? [[String: Any]])?
                                .first
                            if object["is_final"] as? Bool == true, let words = alternative?["transcript"] as? String,
                                !words.isEmpty
                            {
                                finals.append(words)
                                languages += (alternative?["languages"] as? [String]) ?? []
                            }
                            let done =
                                object["from_finalize"] as? Bool == true
                                || (object["speech_final"] as? Bool == true && finalizeSent.withLock { $0 })
                            if done {
                                let language = languages.compactMap(OpenAITranscriptionClient.languageCode).first
                                result.withLock {
                                    $0 = .success(Transcript(text: finals.joined(separator: " "), language: language))
                                }
                                try? await outbound.write(.text(#"{"type":"CloseStream"}"#))
                                group.cancelAll()
                                try? await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        case "Error":
                            let description = object["description"] as? String ?? "error"
                            result.withLock {
                                $0 = .failure(SpeechRecognitionError(status: nil, message: "Deepgram: \(description)"))
                            }
                            group.cancelAll()
                            return
                        default:
                            continue
                        }
                    }
                    group.cancelAll()
                }
            }
        } catch {
            throw SpeechRecognitionError(status: nil, message: "cannot stream to Deepgram: \(error)")
        }
        guard let outcome = result.withLock({ $0 }) else {
            throw SpeechRecognitionError(status: nil, message: "Deepgram closed the stream without a final result")
        }
        return try outcome.get()
    }
}

/// A value shared between tasks behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        mutex.withLock { body(&$0) }
    }
}
