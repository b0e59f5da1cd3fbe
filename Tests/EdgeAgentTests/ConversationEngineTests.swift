import AsyncHandoff
import Foundation
import LocalStore
import NIOConcurrencyHelpers
import Sync
import Testing

@testable import EdgeAgent

/// A tool that takes its time, to see the filler line.
struct SlowTool: AgentTool {
    let delay: Duration
    let name = "slow_lookup"
    let description = "Looks something up slowly."
    let parameters = JSONSchema.object(properties: [:], required: [])

    func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        try await Task.sleep(for: delay)
        return ["found": true]
    }
}

/// A tool that says when it has started and finishes only when the test lets it.
struct GatedTool: AgentTool {
    let started: AsyncStream<Void>.Continuation
    let release: Handoff<Void>
    let name = "gated_write"
    let description = "Writes something once let through."
    let parameters = JSONSchema.object(properties: [:], required: [])

    func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        started.yield()
        await release.receive()
        return ["written": true]
    }
}

@Suite("Conversation engine")
struct ConversationEngineTests {
    /// An engine whose model is the chat double at `url` and whose tools are `tools` on `bench`'s store.
    static func engine(modelAt url: URL, tools: [any AgentTool], bench: ToolBench, fillerAfter: Duration)
        -> ConversationEngine
    {
        ConversationEngine(
            model: OpenAIChatClient(
                http: .shared, baseURL: url.appendingPathComponent("v1"), apiKey: Secret(OpenAIChatDouble.apiKey),
                model: "m"),
            tools: ToolRunner(tools: tools, calls: CallLog(database: bench.app.database), logger: LogCapture().logger),
            phrases: bench.app.phrases, logger: LogCapture().logger, fillerAfter: fillerAfter)
    }

    @Test("a turn cancelled while its tool runs: the tool finishes, its result is remembered, the next call is not run")
    func cancelledWhileAToolRuns() async throws {
        let chunks = [
            #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"gated_write","arguments":"{}"}},{"index":1,"id":"call_b","type":"function","function":{"name":"gated_write","arguments":"{}"}}]},"finish_reason":null}]}"#,
            #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        ]
        let llm = OpenAIChatDouble([.init(pieces: [OpenAIChatDouble.events(chunks)])])
        let bench = try await ToolBench()
        let (started, startedSink) = AsyncStream.makeStream(of: Void.self)
        let release = Handoff<Void>()
        try await withLoopbackServer(llm.router) { url in
            let engine = Self.engine(
                modelAt: url, tools: [GatedTool(started: startedSink, release: release)], bench: bench,
                fillerAfter: .seconds(60))
            let remembered = NIOLockedValueBox<[ChatMessage]>([])
            let recorded = NIOLockedValueBox<[String]>([])
            let turn = Task {
                try await engine.respond(
                    to: [.system("s"), .user("Write it twice.")], context: bench.context, turnID: "t1",
                    record: { execution in recorded.withLockedValue { $0.append(execution.tool) } },
                    remember: { messages in remembered.withLockedValue { $0 += messages } },
                    speak: { _ in })
            }
            var starts = started.makeAsyncIterator()
            _ = await starts.next()
            // The caller speaks: the turn is cancelled while the first write is under way.
            turn.cancel()
            release.send(())
            await #expect(throws: CancellationError.self) { try await turn.value }

            let messages = remembered.withLockedValue { $0 }
            #expect(messages.map(\.role) == [.assistant, .tool, .tool])
            #expect(messages.first?.toolCalls?.map(\.id) == ["call_a", "call_b"])
            #expect(messages[1].toolCallID == "call_a")
            #expect(messages[1].content == #"{"written":true}"#)
            #expect(messages[2].toolCallID == "call_b")
            #expect(messages[2].content == ConversationEngine.notRun)
            // Exactly one write ran, and it was recorded.
            #expect(recorded.withLockedValue { $0 } == ["gated_write"])
            #expect(llm.requests.withLockedValue { $0 }.count == 1)
        }
    }

    @Test("a slow tool makes the caller hear the filler line, and every piece is spoken as it streams")
    func filler() async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.tool("slow_lookup", "{}"), ScriptedLLM.text("Found it. It is ready. Anything else?"),
        ])
        let bench = try await ToolBench()
        try await withLoopbackServer(llm.router) { url in
            let engine = Self.engine(
                modelAt: url, tools: [SlowTool(delay: .milliseconds(300))], bench: bench, fillerAfter: .milliseconds(50)
            )
            let spoken = NIOLockedValueBox<[String]>([])
            let recorded = NIOLockedValueBox<[String]>([])
            let (reply, added) = try await engine.respond(
                to: [.system("s"), .user("Is it ready?")], context: bench.context, turnID: "t1",
                record: { execution in recorded.withLockedValue { $0.append(execution.tool) } },
                speak: { piece in spoken.withLockedValue { $0.append(piece) } })
            #expect(
                spoken.withLockedValue { $0 } == [
                    // "Found it." alone is too short to send on its own.
                    "One moment, let me check that for you.", "Found it. It is ready.", "Anything else?",
                ])
            #expect(reply.tools.map(\.name) == ["slow_lookup"])
            #expect(recorded.withLockedValue { $0 } == ["slow_lookup"])
            #expect(added.map(\.role) == [.assistant, .tool, .assistant])
            #expect(added[1].content == #"{"found":true}"#)
        }
    }
}

@Suite("Conversation memory")
struct ConversationHistoryTests {
    @Test("the oldest exchanges go first, whole, and a tool result never loses its call")
    func trimming() {
        let call = ToolCall(id: "c1", name: "get_menu", arguments: "{}")
        let messages: [ChatMessage] = [
            .assistant(String(repeating: "a", count: 100)), .user(String(repeating: "u", count: 100)),
            ChatMessage(role: .assistant, content: nil, toolCalls: [call]),
            .tool(callID: "c1", result: String(repeating: "r", count: 100)), .assistant("It's on the menu."),
            .user("Great, thanks."),
        ]
        #expect(ConversationHistory.trimmed(messages, budget: 10_000) == messages)
        let trimmed = ConversationHistory.trimmed(messages, budget: 150)
        #expect(trimmed.first?.role != .tool)
        #expect(!(trimmed.first?.role == .assistant && trimmed.first?.toolCalls != nil))
        #expect(trimmed.suffix(2) == messages.suffix(2))
        #expect(ConversationHistory.trimmed(messages, budget: 0).count == 2)
    }
}
