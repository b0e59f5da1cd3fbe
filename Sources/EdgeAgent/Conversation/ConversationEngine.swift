public import Foundation
public import Logging
public import Sync

/// One agent turn: sends the conversation to the model, speaks its text piece by piece as it
/// streams, runs the tools it calls (with a filler line when a tool is slow), and goes around again
/// with the tool results until the model has answered in words.
public struct ConversationEngine: Sendable {
    /// What a turn produced.
    public struct Reply: Sendable, Equatable {
        /// The pieces handed to `speak`, in order.
        public var spokenPieces: [String] = []
        /// The tools that ran, in order, and whether each succeeded.
        public var tools: [(name: String, succeeded: Bool)] = []
        /// The model asked to end the call.
        public var endCall = false
        /// When the model's first token arrived.
        public var firstTokenAt: Date?

        public static func == (lhs: Reply, rhs: Reply) -> Bool {
            lhs.spokenPieces == rhs.spokenPieces && lhs.endCall == rhs.endCall
                && lhs.tools.map(\.name) == rhs.tools.map(\.name)
        }
    }

    /// The session-level tool that ends the call after the goodbye has been heard.
    public static let endCallTool: JSONValue = [
        "type": "function",
        "function": [
            "name": "end_call",
            "description": "End the call after saying goodbye, when the caller has nothing more to ask.",
            "parameters": ["type": "object", "properties": [:], "required": [], "additionalProperties": false],
        ],
    ]

    let model: any LanguageModel
    let tools: ToolRunner
    let phrases: PhraseBook
    let logger: Logger
    /// How long a tool may run before the caller hears the filler line.
    let fillerAfter: Duration
    /// Model round trips allowed per turn (tool calls then words).
    let maximumRounds = 4

    public init(
        model: any LanguageModel, tools: ToolRunner, phrases: PhraseBook, logger: Logger,
        fillerAfter: Duration = .milliseconds(700)
    ) {
        self.model = model
        self.tools = tools
        self.phrases = phrases
        self.logger = logger
        self.fillerAfter = fillerAfter
    }

    /// Answers the conversation in `messages` (system prompt first); returns the reply and the
    /// messages to append to the history (assistant text, tool calls and tool results).
    ///
    /// A tool that has started always finishes, even when the turn is cancelled meanwhile: what it
    /// did is a fact of the call. Calls the model asked for that had not started get a "not run"
    /// result, so every tool call in the history has its answer.
    ///
    /// - Parameters:
    ///   - record: stores each tool execution row (a live call queues it off the hot path).
    ///   - remember: receives the new messages as they are settled, before the turn can be cancelled
    ///     past them: the assistant's tool calls before they run, each tool's result once it is in,
    ///     and the final answer's text.
    public func respond(
        to messages: [ChatMessage], context: ToolContext, turnID: String,
        record: @escaping @Sendable (ToolExecution) async -> Void,
        remember: @escaping @Sendable ([ChatMessage]) async -> Void = { _ in },
        speak: @escaping @Sendable (String) async -> Void
    ) async throws -> (reply: Reply, newMessages: [ChatMessage]) {
        var reply = Reply()
        var added: [ChatMessage] = []
        let declarations: JSONValue = {
            guard case .array(var list) = tools.declarations else { return tools.declarations }
            list.append(Self.endCallTool)
            return .array(list)
        }()
        for _ in 0..<maximumRounds {
            var splitter = SpeakableTextSplitter()
            var text = ""
            var calls: [ToolCall] = []
            for try await event in model.stream(ChatRequest(messages: messages + added, tools: declarations)) {
                try Task.checkCancellation()
                if reply.firstTokenAt == nil { reply.firstTokenAt = Date() }
                switch event {
                case .text(let fragment):
                    text += fragment
                    for piece in splitter.append(fragment) {
                        reply.spokenPieces.append(piece)
                        await speak(piece)
                    }
                case .toolCalls(let toolCalls):
                    calls = toolCalls
                case .finished:
                    break
                }
            }
            if let rest = splitter.finish() {
                reply.spokenPieces.append(rest)
                await speak(rest)
            }
            guard !calls.isEmpty else {
                added.append(.assistant(text))
                await remember([.assistant(text)])
                return (reply, added)
            }
            let request = ChatMessage(role: .assistant, content: text.isEmpty ? nil : text, toolCalls: calls)
            added.append(request)
            await remember([request])
            for call in calls {
                let result: String
                if Task.isCancelled {
                    result = Self.notRun
                } else if call.name == "end_call" {
                    reply.endCall = true
                    result = #"{"status":"ending"}"#
                } else {
                    let (text, execution) = await runWithFiller(call, context: context, turnID: turnID, speak: speak)
                    await record(execution)
                    let failed = JSONValue.parse(text)?["error"] != nil
                    reply.tools.append((call.name, !failed))
                    result = text
                }
                let answer = ChatMessage.tool(callID: call.id, result: result)
                added.append(answer)
                await remember([answer])
            }
            try Task.checkCancellation()
            if reply.endCall && calls.allSatisfy({ $0.name == "end_call" }) { return (reply, added) }
        }
        logger.warning("the model kept calling tools; ending the turn", metadata: ["call.id": .string(context.callID)])
        return (reply, added)
    }

    /// The result of a tool call the turn was cancelled before running.
    static let notRun = #"{"error":"not run: the caller spoke before this could be done; ask again if still wanted"}"#

    /// Runs a tool; if it takes longer than ``fillerAfter``, the caller hears the filler line meanwhile.
    /// Cancelling the turn stops the filler, never the tool.
    private func runWithFiller(
        _ call: ToolCall, context: ToolContext, turnID: String, speak: @escaping @Sendable (String) async -> Void
    ) async -> (String, ToolExecution) {
        let tools = self.tools
        let running = Task {
            await tools.perform(name: call.name, arguments: call.arguments, context: context, turnID: turnID)
        }
        let filler = phrases.text(.filler, language: context.language)
        let fillerAfter = self.fillerAfter
        let watcher = Task {
            try await Task.sleep(for: fillerAfter)
            await speak(filler)
        }
        let result = await withTaskCancellationHandler {
            await running.value
        } onCancel: {
            watcher.cancel()
        }
        watcher.cancel()
        return result
    }
}
