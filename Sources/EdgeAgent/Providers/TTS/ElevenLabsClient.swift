public import AsyncHTTPClient
public import Foundation
public import Logging
public import NIOCore

/// ElevenLabs streaming text-to-speech with output in mu-law 8 kHz (`ulaw_8000`), so the audio goes
/// to Twilio as it arrives with no resampling on the hot path. The key travels only in `xi-api-key`.
public struct ElevenLabsClient: SpeechSynthesizer {
    let http: HTTPClient
    let baseURL: URL
    let apiKey: Secret?
    /// Voice id per language.
    let voices: [String: String]
    let model: String
    let timeout: TimeAmount
    let logger: Logger

    public init(
        http: HTTPClient, baseURL: URL, apiKey: Secret?, voices: [String: String], model: String = "eleven_flash_v2_5",
        timeout: TimeAmount = .seconds(15), logger: Logger
    ) {
        self.http = http
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.voices = voices
        self.model = model
        self.timeout = timeout
        self.logger = logger
    }

    /// The output format every request asks for.
    static let outputFormat = "ulaw_8000"

    /// What shapes the audio of each configured language's voice in the standard style, for the
    /// phrase cache's keys (``VoiceIdentity/styled(_:)`` gives another style's).
    public var identities: [String: VoiceIdentity] {
        voices.mapValues { voice in
            VoiceIdentity(
                provider: "elevenlabs", voice: voice, model: model, outputFormat: Self.outputFormat,
                settings: VoiceStyle.standard.settingsText)
        }
    }

    public func synthesize(_ text: String, language: String) -> AsyncThrowingStream<[UInt8], any Error> {
        synthesize(text, language: language, style: .standard)
    }

    public func synthesize(_ text: String, language: String, style: VoiceStyle) -> AsyncThrowingStream<
        [UInt8], any Error
    > {
        .producing { emit in try await run(text: text, language: language, style: style, emit: emit) }
    }

    private func run(text: String, language: String, style: VoiceStyle, emit: ([UInt8]) -> Void) async throws {
        guard let voice = style.voice ?? voices[language] ?? voices["en"] else {
            throw SpeechSynthesisError(
                status: nil, providerCode: "no_voice", message: "no voice configured for \(language) (EDGE_VOICE_EN/ES)"
            )
        }
        var request = HTTPClientRequest(
            url: baseURL.joining("/v1/text-to-speech/\(voice)/stream?output_format=\(Self.outputFormat)"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let apiKey { request.headers.add(name: "xi-api-key", value: apiKey.value) }
        let body = RequestBody(
            text: text, modelID: model, languageCode: language,
            voiceSettings: RequestBody.VoiceSettings(
                stability: style.stability, similarityBoost: style.similarityBoost, style: style.style,
                useSpeakerBoost: true, speed: style.speed))
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))

        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw SpeechSynthesisError(status: nil, providerCode: nil, message: "no answer from ElevenLabs: \(error)")
        }
        guard response.status.code == 200 else {
            let body = try? await response.body.collect(upTo: 64 * 1024)
            throw Self.error(status: Int(response.status.code), body: body)
        }
        if let type = response.headers.first(name: "content-type")?.lowercased(),
            type.hasPrefix("text/") || type.hasPrefix("application/json")
        {
            throw SpeechSynthesisError(
                status: 200, providerCode: "not_audio", message: "ElevenLabs answered \(type) instead of audio")
        }
        var header = WAVHeaderSkipper()
        do {
            for try await buffer in response.body {
                let audio = header.audio(in: Array(buffer.readableBytesView))
                if !audio.isEmpty { emit(audio) }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw SpeechSynthesisError(status: nil, providerCode: nil, message: "the audio stream broke off: \(error)")
        }
    }

    static func error(status: Int, body: ByteBuffer?) -> SpeechSynthesisError {
        let object = body.flatMap { try? JSONSerialization.jsonObject(with: Data(buffer: $0)) as? [String: Any] }
        if let detail = object?["detail"] as? [String: Any] {
            return SpeechSynthesisError(
                status: status, providerCode: detail["status"] as? String,
                message: detail["message"] as? String ?? "HTTP \(status)")
        }
        if let details = object?["detail"] as? [[String: Any]], let first = details.first {
            return SpeechSynthesisError(
                status: status, providerCode: "validation", message: first["msg"] as? String ?? "invalid request")
        }
        return SpeechSynthesisError(status: status, providerCode: nil, message: "HTTP \(status)")
    }

    struct RequestBody: Encodable {
        struct VoiceSettings: Encodable {
            let stability: Double
            let similarityBoost: Double
            let style: Double
            let useSpeakerBoost: Bool
            let speed: Double
            enum CodingKeys: String, CodingKey {
                case stability, style, speed
                case similarityBoost = "similarity_boost"
                case useSpeakerBoost = "use_speaker_boost"
            }
        }
        let text: String
        let modelID: String
        let languageCode: String
        let voiceSettings: VoiceSettings
        enum CodingKeys: String, CodingKey {
            case text
            case modelID = "model_id"
            case languageCode = "language_code"
            case voiceSettings = "voice_settings"
        }
    }
}

/// Passes raw audio through, but drops a WAV header if the provider sends one (`RIFF` ... `data`).
struct WAVHeaderSkipper: Sendable {
    private var pending: [UInt8] = []
    private var decided = false

    mutating func audio(in bytes: [UInt8]) -> [UInt8] {
        guard !decided else { return bytes }
        pending += bytes
        guard pending.count >= 4 else { return [] }
        guard pending.starts(with: Array("RIFF".utf8)) else {
            decided = true
            defer { pending = [] }
            return pending
        }
        // Find the `data` chunk: its 4-byte size follows, then the samples.
        guard let range = pending.firstRange(of: Array("data".utf8)), pending.count >= range.upperBound + 4 else {
            return []
        }
        decided = true
        defer { pending = [] }
        return Array(pending[(range.upperBound + 4)...])
    }
}
