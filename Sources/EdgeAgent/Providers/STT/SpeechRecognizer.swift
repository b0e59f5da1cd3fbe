/// What a caller said in one utterance.
public struct Transcript: Sendable, Equatable {
    public var text: String
    /// `en` or `es` when the recognizer reported it.
    public var language: String?

    public init(text: String, language: String?) {
        self.text = text
        self.language = language
    }
}

/// Turns a caller's speech into text, one utterance at a time: the session opens a stream when the
/// caller starts talking, sends every 20 ms frame as it arrives, and finishes it when the utterance
/// ends. A streaming recognizer (Deepgram) works while the caller talks; a batch one (an
/// OpenAI-compatible `/audio/transcriptions`) sends the whole utterance at the end.
public protocol SpeechRecognizer: Sendable {
    /// Starts recognising one utterance.
    func startUtterance(languageHint: String?) async throws -> any UtteranceRecognition
}

/// One utterance being recognised.
public protocol UtteranceRecognition: Sendable {
    /// Adds mu-law 8 kHz audio.
    func send(_ audio: [UInt8]) async
    /// The utterance is over: the final transcript.
    func finish() async throws -> Transcript
    /// The utterance is abandoned (the caller hung up).
    func cancel() async
}

/// A failed recognition.
public struct SpeechRecognitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int?
    public let message: String

    public init(status: Int?, message: String) {
        self.status = status
        self.message = message
    }

    public var isRetryable: Bool { status.map { $0 == 429 || $0 >= 500 || $0 == 408 } ?? true }
    public var description: String { "speech recognition failed\(status.map { " (\($0))" } ?? ""): \(message)" }
}
