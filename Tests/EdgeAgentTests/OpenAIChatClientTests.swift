import AsyncHTTPClient
import Foundation
import Testing

@testable import EdgeAgent

@Suite("OpenAI-compatible chat client")
struct OpenAIChatClientTests {
    static let textStream = OpenAIChatDouble.events([
        #"{"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Of course"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" — what name?"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"abc"}"#,
        #"{"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
        #"{"id":"chatcmpl-9x1","object":"chat.completion.chunk","created":1767225600,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":212,"completion_tokens":7,"total_tokens":219}}"#,
    ])

    static let toolStream = OpenAIChatDouble.events([
        #"{"id":"chatcmpl-9x2","object":"chat.completion.chunk","created":1767225601,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc123","type":"function","function":{"name":"create_reservation","arguments":""}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9x2","object":"chat.completion.chunk","created":1767225601,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_def456","type":"function","function":{"name":"get_menu","arguments":"{\"diet"}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9x2","object":"chat.completion.chunk","created":1767225601,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"party_size\":"}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9x2","object":"chat.completion.chunk","created":1767225601,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"ary\":\"vegan\"}"}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9x2","object":"chat.completion.chunk","created":1767225601,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"4,\"name\":\"Zoë \\\"Z\\\"\",\"time\":\"19:30\"}"}}]},"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-9x2","object":"chat.completion.chunk","created":1767225601,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null}"#,
        #"{"id":"chatcmpl-9x2","object":"chat.completion.chunk","created":1767225601,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":230,"completion_tokens":24,"total_tokens":254}}"#,
    ])

    func client(_ url: URL, key: String = OpenAIChatDouble.apiKey) -> OpenAIChatClient {
        OpenAIChatClient(
            http: .shared, baseURL: url.appendingPathComponent("v1"), apiKey: Secret(key), model: "gpt-4o-mini")
    }

    func collect(_ model: some LanguageModel, _ request: ChatRequest) async throws -> [ChatEvent] {
        var events: [ChatEvent] = []
        for try await event in model.stream(request) { events.append(event) }
        return events
    }

    @Test("text arrives piece by piece as it streams, whatever the chunk boundaries")
    func textStream() async throws {
        for size in [1, 17, 100_000] {
            let double = OpenAIChatDouble([.init(pieces: OpenAIChatDouble.pieces(Self.textStream, size: size))])
            let events = try await withLoopbackServer(double.router) { url in
                try await collect(client(url), ChatRequest(messages: [.system("Be brief."), .user("A table?")]))
            }
            #expect(
                events == [
                    .text("Of course"), .text(" — what name?"),
                    .finished(reason: "stop", promptTokens: 212, completionTokens: 7),
                ], "piece size \(size)")
        }
    }

    @Test("tool calls are assembled exactly from interleaved fragments")
    func toolCalls() async throws {
        let double = OpenAIChatDouble([.init(pieces: OpenAIChatDouble.pieces(Self.toolStream, size: 23))])
        let events = try await withLoopbackServer(double.router) { url in
            try await collect(client(url), ChatRequest(messages: [.user("Book it")], tools: ["placeholder"]))
        }
        #expect(
            events == [
                .toolCalls([
                    ToolCall(
                        id: "call_abc123", name: "create_reservation",
                        arguments: #"{"party_size":4,"name":"Zoë \"Z\"","time":"19:30"}"#),
                    ToolCall(id: "call_def456", name: "get_menu", arguments: #"{"dietary":"vegan"}"#),
                ]),
                .finished(reason: "tool_calls", promptTokens: 230, completionTokens: 24),
            ])
        if case .toolCalls(let calls) = events.first {
            #expect(JSONValue.parse(calls[0].arguments)?["name"] == "Zoë \"Z\"")
        }
    }

    @Test("the request is the documented shape, tool round trip included")
    func requestShape() async throws {
        let double = OpenAIChatDouble([.init(pieces: [Self.textStream])])
        let call = ToolCall(id: "call_1", name: "get_opening_hours", arguments: "{}")
        _ = try await withLoopbackServer(double.router) { url in
            try await collect(
                client(url),
                ChatRequest(
                    messages: [
                        .system("s"), .user("hours?"), ChatMessage(role: .assistant, content: nil, toolCalls: [call]),
                        .tool(callID: "call_1", result: #"{"closed":false}"#),
                    ],
                    tools: [["type": "function", "function": ["name": "get_opening_hours"]]], maximumTokens: 200))
        }
        let body = try #require(double.requests.withLockedValue { $0 }.first)
        #expect(body["model"] == "gpt-4o-mini")
        #expect(body["stream"] == true)
        #expect(body["stream_options"] == ["include_usage": true])
        #expect(body["max_completion_tokens"] == 200)
        #expect(body["tool_choice"] == "auto")
        guard case .array(let messages) = body["messages"] else {
            Issue.record("no messages")
            return
        }
        #expect(
            messages[2] == [
                "role": "assistant", "content": nil,
                "tool_calls": [
                    ["id": "call_1", "type": "function", "function": ["name": "get_opening_hours", "arguments": "{}"]]
                ],
            ])
        #expect(messages[3] == ["role": "tool", "content": #"{"closed":false}"#, "tool_call_id": "call_1"])
    }

    @Test("a 429 is a retryable error carrying the server's wait, and the key is never logged")
    func rateLimited() async throws {
        let double = OpenAIChatDouble([
            .init(
                status: 429, headers: [("retry-after-ms", "250")],
                pieces: [
                    #"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#
                ])
        ])
        await #expect {
            try await withLoopbackServer(double.router) { url in
                try await collect(client(url), ChatRequest(messages: [.user("hi")]))
            }
        } throws: { error in
            guard let error = error as? LanguageModelError else { return false }
            return error.status == 429 && error.isRetryable && error.retryAfter == 0.25
                && error.message == "Rate limit reached" && !"\(error)".contains(OpenAIChatDouble.apiKey)
        }
        // The client logs nothing; the chain that logs its errors is checked in FallbackChainTests.
    }

    @Test("a wrong key is a 401 that is not retried")
    func unauthorised() async throws {
        let double = OpenAIChatDouble([])
        await #expect {
            try await withLoopbackServer(double.router) { url in
                try await collect(client(url, key: "sk-wrong"), ChatRequest(messages: [.user("hi")]))
            }
        } throws: { ($0 as? LanguageModelError)?.status == 401 && ($0 as? LanguageModelError)?.isRetryable == false }
    }

    @Test("an error in the middle of the stream, a truncated stream and garbage are errors, not answers")
    func brokenStreams() async throws {
        let midStream = OpenAIChatDouble.events(
            [
                #"{"choices":[{"index":0,"delta":{"content":"Sure"},"finish_reason":null}]}"#,
                #"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
            ], done: false)
        let truncated = OpenAIChatDouble.events(
            [#"{"choices":[{"index":0,"delta":{"content":"Sure, let me"},"finish_reason":null}]}"#], done: false)
        let garbage = "data: <html>oops</html>\n\n"
        let double = OpenAIChatDouble([
            .init(pieces: [midStream]), .init(pieces: [truncated]), .init(pieces: [garbage]),
        ])
        try await withLoopbackServer(double.router) { url in
            for expected in [LanguageModelError.Code.streamError, .malformed, .malformed] {
                await #expect {
                    try await collect(client(url), ChatRequest(messages: [.user("hi")]))
                } throws: { ($0 as? LanguageModelError)?.code == expected }
            }
        }
    }

    @Test("a server that is not there is a retryable transport error, within the connect timeout")
    func deadServer() async throws {
        let http = UpstreamHTTP.makeClient(connectTimeout: .milliseconds(300))
        let dead = OpenAIChatClient(
            http: http, baseURL: URL(string: "http://127.0.0.1:9/v1")!, apiKey: nil, model: "m",
            timeout: .seconds(30))
        await #expect {
            try await collect(dead, ChatRequest(messages: [.user("hi")]))
        } throws: {
            ($0 as? LanguageModelError)?.code == .transport && ($0 as? LanguageModelError)?.isRetryable == true
        }
        try await http.shutdown()
    }
}
