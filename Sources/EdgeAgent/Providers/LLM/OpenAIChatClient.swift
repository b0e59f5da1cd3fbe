public import AsyncHTTPClient
public import Foundation
public import NIOCore
import NIOHTTP1

/// An OpenAI-compatible `/chat/completions` client that streams (SSE) text and tool calls.
///
/// Works with any server of that shape (OpenAI, llama.cpp, Ollama, vLLM) through its base URL.
/// The key is sent only in the `Authorization` header and never logged.
public struct OpenAIChatClient: LanguageModel {
    let server: OpenAICompatibleServer
    var baseURL: URL { server.baseURL }

    public init(
        http: HTTPClient, baseURL: URL, apiKey: Secret?, model: String, timeout: TimeAmount = .seconds(30)
    ) {
        server = OpenAICompatibleServer(
            http: http, baseURL: baseURL, apiKey: apiKey, model: model, timeout: timeout)
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        .producing { emit in try await run(request, emit: emit) }
    }

    private func run(_ chat: ChatRequest, emit: (ChatEvent) -> Void) async throws {
        let request = server.request(
            "/chat/completions", contentType: "application/json", accept: "text/event-stream",
            body: try requestBody(chat))
        let host = baseURL.host ?? "the server"
        let response = try await server.execute(request) { why in
            LanguageModelError(.transport, message: "no answer from \(host): \(why)")
        }
        guard (200..<300).contains(response.status.code) else {
            let body = try? await response.body.collect(upTo: 64 * 1024)
            throw Self.statusError(status: Int(response.status.code), headers: response.headers, body: body)
        }

        var parser = ServerSentEventParser()
        var tools = ToolCallAssembler()
        var finishReason: String?
        var usage: Chunk.Usage?
        var done = false
        func handle(_ data: String) throws {
            guard !done else { return }
            if data.hasPrefix("[DONE]") {
                done = true
                return
            }
            let chunk: Chunk
            do {
                chunk = try JSONDecoder().decode(Chunk.self, from: Data(data.utf8))
            } catch {
                throw LanguageModelError(.malformed, message: "an event was not a chat.completion.chunk")
            }
            if let error = chunk.error {
                throw LanguageModelError(.streamError, message: error.message ?? "error in stream")
            }
            if let chunkUsage = chunk.usage { usage = chunkUsage }
            for choice in chunk.choices ?? [] where choice.index ?? 0 == 0 {
                if let content = choice.delta?.content, !content.isEmpty { emit(.text(content)) }
                for call in choice.delta?.toolCalls ?? [] {
                    tools.add(
                        index: call.index, id: call.id, name: call.function?.name,
                        argumentsFragment: call.function?.arguments)
                }
                if let reason = choice.finishReason { finishReason = reason }
            }
        }
        do {
            for try await buffer in response.body {
                for data in try parser.feed(buffer.readableBytesView) { try handle(data) }
                try Task.checkCancellation()
            }
        } catch let error as LanguageModelError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw LanguageModelError(.transport, message: "the answer stream broke off: \(error)")
        }
        for data in parser.finish() { try handle(data) }
        guard done || finishReason != nil else {
            throw LanguageModelError(.malformed, message: "the stream ended without a finish reason or [DONE]")
        }
        if !tools.isEmpty { emit(.toolCalls(tools.toolCalls)) }
        emit(
            .finished(
                reason: finishReason, promptTokens: usage?.promptTokens, completionTokens: usage?.completionTokens))
    }

    func requestBody(_ chat: ChatRequest) throws -> [UInt8] {
        let body = RequestBody(
            model: server.model, messages: chat.messages, stream: true, streamOptions: .init(includeUsage: true),
            temperature: chat.temperature, maxCompletionTokens: chat.maximumTokens, tools: chat.tools,
            toolChoice: chat.tools == nil ? nil : "auto")
        return Array(try JSONEncoder().encode(body))
    }

    static func statusError(status: Int, headers: HTTPHeaders, body: ByteBuffer?) -> LanguageModelError {
        let message = OpenAICompatibleServer.errorMessage(in: body)
        var retryAfter: Double?
        if let milliseconds = headers.first(name: "retry-after-ms").flatMap(Double.init) {
            retryAfter = milliseconds / 1000
        } else if let seconds = headers.first(name: "retry-after").flatMap(Double.init) {
            retryAfter = seconds
        }
        return LanguageModelError(
            .status, status: status, message: message ?? "HTTP \(status) without an error body", retryAfter: retryAfter)
    }

    struct RequestBody: Encodable {
        struct StreamOptions: Encodable {
            let includeUsage: Bool
            enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
        }
        let model: String
        let messages: [ChatMessage]
        let stream: Bool
        let streamOptions: StreamOptions
        let temperature: Double
        let maxCompletionTokens: Int
        let tools: JSONValue?
        let toolChoice: String?

        enum CodingKeys: String, CodingKey {
            case model, messages, stream, temperature, tools
            case streamOptions = "stream_options"
            case maxCompletionTokens = "max_completion_tokens"
            case toolChoice = "tool_choice"
        }
    }

    struct Chunk: Decodable {
        struct Choice: Decodable {
            let index: Int?
            let delta: Delta?
            let finishReason: String?
            enum CodingKeys: String, CodingKey {
                case index, delta
                case finishReason = "finish_reason"
            }
        }
        struct Delta: Decodable {
            let content: String?
            let toolCalls: [ToolCallDelta]?
            enum CodingKeys: String, CodingKey {
                case content
                case toolCalls = "tool_calls"
            }
        }
        struct ToolCallDelta: Decodable {
            struct Function: Decodable {
                let name: String?
                let arguments: String?
            }
            let index: Int
            let id: String?
            let function: Function?
        }
        struct Usage: Decodable {
            let promptTokens: Int?
            let completionTokens: Int?
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case completionTokens = "completion_tokens"
            }
        }
        struct StreamError: Decodable {
            let message: String?
        }
        let choices: [Choice]?
        let usage: Usage?
        let error: StreamError?
    }

}
