/// Turns text into telephone audio (mu-law, 8 kHz, mono), streamed as it is made.
public protocol SpeechSynthesizer: Sendable {
    /// Streams the audio of `text` spoken in `language` (`en` or `es`).
    func synthesize(_ text: String, language: String) -> AsyncThrowingStream<[UInt8], any Error>
    /// Streams the audio of `text` spoken in `style`; a synthesizer with no styles speaks it as usual.
    func synthesize(_ text: String, language: String, style: VoiceStyle) -> AsyncThrowingStream<[UInt8], any Error>
}

extension SpeechSynthesizer {
    public func synthesize(_ text: String, language: String, style: VoiceStyle) -> AsyncThrowingStream<
        [UInt8], any Error
    > {
        synthesize(text, language: language)
    }
}

/// A failed synthesis, with what the resilience layer needs to decide on a retry.
public struct SpeechSynthesisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status, when the provider answered.
    public let status: Int?
    /// The provider's error code (`quota_exceeded`, `too_many_concurrent_requests`, ...).
    public let providerCode: String?
    public let message: String

    public init(status: Int?, providerCode: String?, message: String) {
        self.status = status
        self.providerCode = providerCode
        self.message = message
    }

    /// Whether the same request may succeed later.
    public var isRetryable: Bool {
        guard let status else { return true }
        return status == 429 || status >= 500
    }

    public var description: String {
        "speech synthesis failed\(status.map { " (\($0))" } ?? ""): \(message)"
    }
}
