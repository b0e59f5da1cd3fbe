/// One run of a tool the LLM called, with what it was given and what it answered.
public struct ToolExecution: Codable, Sendable, Equatable, Identifiable {
    /// How the run ended.
    public enum Status: String, Codable, Sendable, CaseIterable {
        case ok
        case error
    }

    public var id: String
    public var callID: String
    public var turnID: String?
    /// The tool's name (`create_reservation`, ...).
    public var tool: String
    /// The arguments as the model sent them (JSON text).
    public var arguments: String
    /// The result handed back to the model (JSON text).
    public var result: String
    public var status: Status
    public var startedAt: Int64
    public var durationMilliseconds: Int

    public init(
        id: String, callID: String, turnID: String? = nil, tool: String, arguments: String, result: String,
        status: Status, startedAt: Int64, durationMilliseconds: Int
    ) {
        self.id = id
        self.callID = callID
        self.turnID = turnID
        self.tool = tool
        self.arguments = arguments
        self.result = result
        self.status = status
        self.startedAt = startedAt
        self.durationMilliseconds = durationMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case id
        case callID = "call_id"
        case turnID = "turn_id"
        case tool
        case arguments
        case result
        case status
        case startedAt = "started_at"
        case durationMilliseconds = "duration_ms"
    }
}
