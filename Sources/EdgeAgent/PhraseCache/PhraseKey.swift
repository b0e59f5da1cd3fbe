import Crypto
import Foundation

/// Everything about a voice that shapes its audio, so two phrases share a cache entry only when they
/// would sound the same.
public struct VoiceIdentity: Sendable, Hashable {
    /// `elevenlabs`, ...
    public let provider: String
    /// The provider's voice id.
    public let voice: String
    public let model: String
    /// `ulaw_8000`, ...
    public let outputFormat: String
    /// The voice settings, in a stable text form.
    public let settings: String

    public init(provider: String, voice: String, model: String, outputFormat: String, settings: String) {
        self.provider = provider
        self.voice = voice
        self.model = model
        self.outputFormat = outputFormat
        self.settings = settings
    }
}

/// The content address of a phrase: SHA-256 over the voice's identity, the language and the normalised
/// text. It names the file and the `phrase_cache` row.
public struct PhraseKey: Sendable, Hashable, CustomStringConvertible {
    /// 64 lowercase hex digits.
    public let hex: String
    /// The text as it is sent to the provider and shown by `cache stats`.
    public let text: String
    public let language: String
    public let voice: VoiceIdentity

    public init(text: String, language: String, voice: VoiceIdentity) {
        let text = Self.normalise(text)
        self.text = text
        self.language = language
        self.voice = voice
        // Fields separated by a byte no field contains, so ("ab", "c") and ("a", "bc") differ.
        let fields = [
            "v1", voice.provider, voice.voice, voice.model, language, voice.outputFormat, voice.settings, text,
        ]
        let digest = SHA256.hash(data: Data(fields.joined(separator: "\u{1F}").utf8))
        hex = digest.map { String(format: "%02x", $0) }.joined()
    }

    public var description: String { hex }

    /// Unicode NFC, whitespace collapsed to single spaces, trimmed: the same words typed twice with
    /// different spacing are one phrase.
    public static func normalise(_ text: String) -> String {
        text.precomposedStringWithCanonicalMapping
            .split(whereSeparator: { $0.isWhitespace })
            .joined(separator: " ")
    }
}
