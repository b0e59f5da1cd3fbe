import HTTPTypes
public import Hummingbird
public import NIOConcurrencyHelpers

/// The cheap authenticated endpoints `edge-agent doctor` asks each cloud provider, answering as the
/// provider does: the OpenAI-compatible `GET /v1/models` (Bearer key), ElevenLabs' `GET /v1/models`
/// (`xi-api-key`), and Deepgram's `GET /v1/projects` (`Authorization: Token …`), each with the
/// provider's own error body for a wrong key. Mount each on its own server: the paths overlap.
public final class ProviderAccountsDouble: Sendable {
    public enum Provider: Sendable {
        case openAI(key: String, models: [String])
        case elevenLabs(key: String, models: [String])
        case deepgram(key: String)
    }

    let provider: Provider
    /// How many requests came in.
    public let requests = NIOLockedValueBox(0)

    public init(_ provider: Provider) {
        self.provider = provider
    }

    public func register(on router: Router<some RequestContext>) {
        switch provider {
        case .openAI(let key, let models):
            router.get("/v1/models") { request, _ -> Response in
                self.requests.withLockedValue { $0 += 1 }
                guard request.headers[.authorization] == "Bearer \(key)" else {
                    return Self.json(
                        #"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                        status: .unauthorized)
                }
                let data = models.map { #"{"id":"\#($0)","object":"model","created":1686935002,"owned_by":"system"}"# }
                return Self.json(#"{"object":"list","data":[\#(data.joined(separator: ","))]}"#, status: .ok)
            }
        case .elevenLabs(let key, let models):
            router.get("/v1/models") { request, _ -> Response in
                self.requests.withLockedValue { $0 += 1 }
                guard request.headers[HTTPField.Name("xi-api-key")!] == key else {
                    return Self.json(
                        #"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#, status: .unauthorized)
                }
                let list = models.map {
                    #"{"model_id":"\#($0)","name":"\#($0)","can_do_text_to_speech":true,"languages":[{"language_id":"en","name":"English"},{"language_id":"es","name":"Spanish"}],"maximum_text_length_per_request":40000}"#
                }
                return Self.json("[\(list.joined(separator: ","))]", status: .ok)
            }
        case .deepgram(let key):
            router.get("/v1/projects") { request, _ -> Response in
                self.requests.withLockedValue { $0 += 1 }
                guard request.headers[.authorization] == "Token \(key)" else {
                    return Self.json(
                        #"{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials.","request_id":"00000000-0000-0000-0000-000000000000"}"#,
                        status: .unauthorized)
                }
                return Self.json(
                    #"{"projects":[{"project_id":"3f1c2a9e-0000-4000-8000-000000000001","name":"Restaurant"}]}"#,
                    status: .ok)
            }
        }
    }

    static func json(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
