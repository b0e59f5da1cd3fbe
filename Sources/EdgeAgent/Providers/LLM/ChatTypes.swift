/// One message of a chat completions conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// Who wrote it.
    public enum Role: String, Sendable, Codable {
        case system
        case user
        case assistant
        case tool
    }

    public var role: Role
    public var content: String?
    /// Calls the assistant asked for.
    public var toolCalls: [ToolCall]?
    /// For `tool` messages: the call answered.
    public var toolCallID: String?

    public init(role: Role, content: String?, toolCalls: [ToolCall]? = nil, toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: text) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: .assistant, content: text) }
    public static func tool(callID: String, result: String) -> ChatMessage {
        ChatMessage(role: .tool, content: result, toolCallID: callID)
    }

    enum CodingKeys: String, CodingKey {
        case role
        case content
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        // An assistant message that only calls tools has content null, as the API expects.
        try container.encode(content, forKey: .content)
        try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try container.encodeIfPresent(toolCallID, forKey: .toolCallID)
    }
}

/// A function call the model asked for, with its arguments as the JSON text it sent.
public struct ToolCall: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    enum CodingKeys: String, CodingKey {
        case id
        case type
        case function
    }

    enum FunctionKeys: String, CodingKey {
        case name
        case arguments
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        let function = try container.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        name = try function.decode(String.self, forKey: .name)
        arguments = try function.decode(String.self, forKey: .arguments)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("function", forKey: .type)
        var function = container.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        try function.encode(name, forKey: .name)
        try function.encode(arguments, forKey: .arguments)
    }
}

/// What a streamed completion produces, in order.
public enum ChatEvent: Sendable, Equatable {
    /// A fragment of the answer's text.
    case text(String)
    /// The whole tool calls of the answer, assembled from their fragments, when it finished.
    case toolCalls([ToolCall])
    /// The end: the finish reason and, when the server reported it, the token usage.
    case finished(reason: String?, promptTokens: Int?, completionTokens: Int?)
}

/// A request to a chat model.
public struct ChatRequest: Sendable {
    public var messages: [ChatMessage]
    /// The `tools` array (JSON), or nil for none.
    public var tools: JSONValue?
    public var temperature: Double
    public var maximumTokens: Int

    public init(messages: [ChatMessage], tools: JSONValue? = nil, temperature: Double = 0.4, maximumTokens: Int = 300) {
        self.messages = messages
        self.tools = tools
        self.temperature = temperature
        self.maximumTokens = maximumTokens
    }
}

/// A chat model that streams its answer.
public protocol LanguageModel: Sendable {
    /// Streams the answer to `request`; cancelling the consuming task stops the request.
    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error>
}
