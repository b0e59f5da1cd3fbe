public import AsyncHTTPClient
public import Foundation
public import NIOCore

/// One OpenAI-compatible server as the chat and transcription clients reach it: base URL, key,
/// model, time limit. Builds their requests the same way (the key only in the `Authorization`
/// header, never logged) and reads the error message OpenAI-shaped servers put in their bodies.
public struct OpenAICompatibleServer: Sendable {
    let http: HTTPClient
    let baseURL: URL
    let apiKey: Secret?
    let model: String
    /// The longest a whole answer may take.
    let timeout: TimeAmount

    public init(http: HTTPClient, baseURL: URL, apiKey: Secret?, model: String, timeout: TimeAmount) {
        self.http = http
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.model = model
        self.timeout = timeout
    }

    /// A `POST` to `path` under the base URL with `body` of `contentType`.
    func request(_ path: String, contentType: String, accept: String? = nil, body: [UInt8]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL.joining(path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey.value)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// Sends `request` within ``timeout``; a transport failure is thrown as `transportError(why)`.
    func execute(_ request: HTTPClientRequest, transportError: (String) -> any Error) async throws
        -> HTTPClientResponse
    {
        do {
            return try await http.execute(request, timeout: timeout)
        } catch {
            throw transportError("\(error)")
        }
    }

    /// The `error.message` of an OpenAI-shaped error body, if there is one.
    static func errorMessage(in body: ByteBuffer?) -> String? {
        body.flatMap { try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(buffer: $0)) }?.error.message
    }

    struct ErrorEnvelope: Decodable {
        struct Body: Decodable { let message: String? }
        let error: Body
    }
}
