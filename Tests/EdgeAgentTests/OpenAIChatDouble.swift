import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

@testable import EdgeAgent

/// A local stand-in for an OpenAI-compatible `/v1/chat/completions`, speaking the documented wire
/// format: Bearer auth, JSON request, `text/event-stream` answers of `data: <chunk>` events ending in
/// `data: [DONE]`, and `{"error": {...}}` bodies with their status codes.
final class OpenAIChatDouble: Sendable {
    /// One scripted answer.
    struct Answer: Sendable {
        var status: Int = 200
        var headers: [(String, String)] = []
        /// Body pieces, written one by one so the client sees arbitrary chunk boundaries.
        var pieces: [String]
    }

    static let apiKey = "sk-test-0123456789"
    let answers: NIOLockedValueBox<[Answer]>
    let requests = NIOLockedValueBox<[JSONValue]>([])
    let faults: FaultInjection
    /// When set, answers from the request (its `messages`) instead of from a script.
    let responder: (@Sendable ([JSONValue]) async -> Answer)?

    init(_ answers: [Answer], faults: FaultInjection = FaultInjection()) {
        self.answers = NIOLockedValueBox(answers)
        self.faults = faults
        self.responder = nil
    }

    /// A double that answers each request by looking at its conversation, as a model does.
    init(responder: @escaping @Sendable ([JSONValue]) async -> Answer) {
        self.answers = NIOLockedValueBox([])
        self.faults = FaultInjection()
        self.responder = responder
    }

    var router: Router<BasicRequestContext> {
        let router = Router()
        register(on: router)
        return router
    }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/chat/completions") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(Self.apiKey)" else {
                return Self.json(
                    401,
                    #"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#
                )
            }
            let body = try await request.body.collect(upTo: 1 << 20)
            let parsed = JSONValue.parse(String(buffer: body)) ?? .null
            self.requests.withLockedValue { $0.append(parsed) }
            if let faulty = await self.faults.response(
                errorBody:
                    #"{"error":{"message":"The server is overloaded.","type":"server_error","param":null,"code":null}}"#
            ) {
                return faulty
            }
            let answer: Answer?
            if let responder = self.responder {
                // This request's own conversation: other calls' requests may have arrived since.
                guard case .array(let messages) = parsed["messages"] else {
                    return Self.json(400, #"{"error":{"message":"messages is required"}}"#)
                }
                answer = await responder(messages)
            } else {
                // The last scripted answer repeats once the script is used up.
                answer = self.answers.withLockedValue { $0.count > 1 ? $0.removeFirst() : $0.first }
            }
            guard let answer else { return Self.json(500, #"{"error":{"message":"no scripted answer"}}"#) }
            var headers: HTTPFields = [.contentType: answer.status == 200 ? "text/event-stream" : "application/json"]
            for (name, value) in answer.headers { headers[HTTPField.Name(name)!] = value }
            let pieces = answer.pieces
            return Response(
                status: .init(code: answer.status), headers: headers,
                body: .init { writer in
                    for piece in pieces { try await writer.write(ByteBuffer(string: piece)) }
                    try await writer.finish(nil)
                })
        }
    }

    static func json(_ status: Int, _ body: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// SSE for chunk objects, each `data:` line then a blank line, ending with `[DONE]`.
    static func events(_ chunks: [String], done: Bool = true) -> String {
        chunks.map { "data: \($0)\n\n" }.joined() + (done ? "data: [DONE]\n\n" : "")
    }

    /// Splits text into pieces of `size` characters.
    static func pieces(_ text: String, size: Int) -> [String] {
        var result: [String] = []
        var current = text[...]
        while !current.isEmpty {
            result.append(String(current.prefix(size)))
            current = current.dropFirst(size)
        }
        return result
    }
}
