public import LocalStore

/// `take_message`: leaves a message for the staff.
public struct TakeMessageTool: AgentTool {
    let board: StaffMessageBoard

    public init(board: StaffMessageBoard) {
        self.board = board
    }

    public let name = "take_message"
    public let description =
        "Leave a message for the restaurant's staff, with a number to call back (the caller's when omitted)."
    public let parameters = JSONSchema.object(
        properties: [
            "message": .string(description: "The message, in the caller's words", maxLength: 1000),
            "callback_phone": ReservationParameters.phone,
        ],
        required: ["message"])

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        guard let text = arguments.string("message") else { throw ToolError("the message is empty") }
        let phone =
            try arguments.string("callback_phone").map { raw -> String in
                guard let phone = PhoneNumber.e164(raw) else {
                    throw ToolError("the callback number must be in international form, like +15551234567")
                }
                return phone
            } ?? context.callerPhone.flatMap(PhoneNumber.e164)
        let (message, alreadySaved) = try await board.leaveOnce(
            message: text, callbackPhone: phone, callID: context.callID, language: context.language)
        let result: JSONValue = ["message_id": .string(message.id), "status": "saved"]
        return alreadySaved ? result.adding(["already_saved": true]) : result
    }
}
