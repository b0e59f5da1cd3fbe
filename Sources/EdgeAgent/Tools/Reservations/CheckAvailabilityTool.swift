public import LocalStore

/// `check_availability`: whether a party can be seated at a time, with up to three alternatives.
public struct CheckAvailabilityTool: AgentTool {
    let book: ReservationBook

    public init(book: ReservationBook) {
        self.book = book
    }

    public let name = "check_availability"
    public let description =
        "Check whether a table is free for a party at a date and time. When it is not, up to three nearest free times are returned."
    public let parameters = JSONSchema.object(
        properties: [
            "date": ReservationParameters.date, "time": ReservationParameters.time,
            "party_size": ReservationParameters.partySize,
        ],
        required: ["date", "time", "party_size"])

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        let decision = try await book.check(
            date: try ReservationParameters.date(arguments)!, time: try ReservationParameters.time(arguments)!,
            partySize: arguments.integer("party_size")!)
        guard let reason = decision.reason else { return ["available": true] }
        return [
            "available": false, "reason": .string(reason.rawValue),
            "alternatives": ToolRunner.alternatives(decision),
        ]
    }
}
