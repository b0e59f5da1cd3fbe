public import AsyncHTTPClient
import AudioIO
public import Foundation
public import NIOCore
import Synchronization

/// An OpenAI-compatible `POST /audio/transcriptions` client for utterances cut by the local voice
/// activity detector: the utterance is sent at its end as a 16-bit PCM WAV file in a multipart form.
public struct OpenAITranscriptionClient: SpeechRecognizer {
    let server: OpenAICompatibleServer

    public init(
        http: HTTPClient, baseURL: URL, apiKey: Secret?, model: String, timeout: TimeAmount = .seconds(10)
    ) {
        server = OpenAICompatibleServer(
            http: http, baseURL: baseURL, apiKey: apiKey, model: model, timeout: timeout)
    }

    public func startUtterance(languageHint: String?) async throws -> any UtteranceRecognition {
        Utterance(client: self)
    }

    /// Collects the utterance's audio until ``finish()``.
    final class Utterance: UtteranceRecognition {
        let client: OpenAITranscriptionClient
        let audio = Mutex<[UInt8]>([])

        init(client: OpenAITranscriptionClient) {
            self.client = client
        }

        func send(_ bytes: [UInt8]) async {
            audio.withLock { $0.append(contentsOf: bytes) }
        }

        func finish() async throws -> Transcript {
            try await client.transcribe(audio.withLock { $0 })
        }

        func cancel() async {
            audio.withLock { $0 = [] }
        }
    }

    /// Transcribes mu-law 8 kHz audio.
    public func transcribe(_ mulaw: [UInt8]) async throws -> Transcript {
        let boundary = "edge-agent-\(UUID().uuidString)"
        var form = MultipartForm(boundary: boundary)
        form.addField("model", server.model)
        form.addField("response_format", "json")
        form.addFile("file", fileName: "utterance.wav", contentType: "audio/wav", data: Self.wav(mulaw))
        let request = server.request(
            "/audio/transcriptions", contentType: "multipart/form-data; boundary=\(boundary)", body: form.finish())
        let response = try await server.execute(request) { why in
            SpeechRecognitionError(status: nil, message: "no answer from the transcription server: \(why)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 200 else {
            let message = OpenAICompatibleServer.errorMessage(in: body)
            throw SpeechRecognitionError(
                status: Int(response.status.code), message: message ?? "HTTP \(response.status.code)")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(buffer: body)) else {
            throw SpeechRecognitionError(status: 200, message: "the answer has no text")
        }
        let text = answer.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let reported =
            answer.language.map(Self.languageCode) ?? answer.languages?.first.map { Self.languageCode($0.code) }
        return Transcript(text: text, language: reported ?? nil)
    }

    /// `en`/`english` → `en`, `es`/`spanish` → `es`, anything else nil.
    static func languageCode(_ value: String) -> String? {
        switch value.lowercased() {
        case "en", "english", "en-us", "en-gb": "en"
        case "es", "spanish", "español", "es-es", "es-mx", "es-us": "es"
        default: nil
        }
    }

    /// A 16-bit PCM mono 8 kHz WAV file of mu-law audio.
    static func wav(_ mulaw: [UInt8]) -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(44 + mulaw.count * 2)
        func append32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { data += $0 } }
        func append16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { data += $0 } }
        data += Array("RIFF".utf8)
        append32(UInt32(36 + mulaw.count * 2))
        data += Array("WAVEfmt ".utf8)
        append32(16)
        append16(1)
        append16(1)
        append32(8000)
        append32(16000)
        append16(2)
        append16(16)
        data += Array("data".utf8)
        append32(UInt32(mulaw.count * 2))
        for byte in mulaw { append16(UInt16(bitPattern: MuLaw.decode(byte))) }
        return data
    }

    struct Answer: Decodable {
        struct Language: Decodable { let code: String }
        let text: String
        let language: String?
        let languages: [Language]?
    }

}

/// A `multipart/form-data` body.
struct MultipartForm {
    let boundary: String
    private var bytes: [UInt8] = []

    init(boundary: String) {
        self.boundary = boundary
    }

    mutating func addField(_ name: String, _ value: String) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }

    mutating func addFile(_ name: String, fileName: String, contentType: String, data: [UInt8]) {
        bytes += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(fileName)\"\r\nContent-Type: \(contentType)\r\n\r\n"
                .utf8)
        bytes += data
        bytes += Array("\r\n".utf8)
    }

    mutating func finish() -> [UInt8] {
        bytes + Array("--\(boundary)--\r\n".utf8)
    }
}
