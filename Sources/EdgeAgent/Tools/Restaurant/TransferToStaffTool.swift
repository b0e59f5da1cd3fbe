/// Moves a live call somewhere else; Twilio's REST API in production.
public protocol CallControl: Sendable {
    /// Connects the call `callSid` to the phone `number`, ending the agent's part of it.
    func transfer(callSid: String, to number: String) async throws
}

/// `transfer_to_staff`: hands the caller to a person at the configured staff number.
public struct TransferToStaffTool: AgentTool {
    let control: (any CallControl)?
    let staffPhone: String?

    public init(control: (any CallControl)?, staffPhone: String?) {
        self.control = control
        self.staffPhone = staffPhone
    }

    public let name = "transfer_to_staff"
    public let description =
        "Hand the call to a person at the restaurant. Tell the caller first that you are transferring them."
    public let parameters = JSONSchema.object(
        properties: ["reason": .string(description: "Why the caller needs a person", maxLength: 300)], required: [])

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        guard let staffPhone, let control else {
            throw ToolError("transfers are not set up at this restaurant; offer to take a message instead")
        }
        guard let callSid = context.callSid else {
            throw ToolError("this call cannot be transferred; offer to take a message instead")
        }
        do {
            try await control.transfer(callSid: callSid, to: staffPhone)
        } catch {
            throw ToolError("the transfer failed; apologise and offer to take a message instead")
        }
        return ["status": "transferring"]
    }
}
