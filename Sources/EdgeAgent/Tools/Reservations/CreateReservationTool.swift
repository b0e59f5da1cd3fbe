public import LocalStore
public import Sync

/// `create_reservation`: books a table, under the caller's number unless another is given.
public struct CreateReservationTool: AgentTool {
    let book: ReservationBook
    let source: Reservation.Source

    public init(book: ReservationBook, source: Reservation.Source = .phoneAgent) {
        self.book = book
        self.source = source
    }

    public let name = "create_reservation"
    public let description =
        "Book a table. Confirm the name, party size, date and time with the caller first. The caller's phone number is used unless another is given."
    public let parameters = JSONSchema.object(
        properties: [
            "name": .string(description: "The name the table is booked under", maxLength: 100),
            "party_size": ReservationParameters.partySize, "date": ReservationParameters.date,
            "time": ReservationParameters.time, "phone": ReservationParameters.phone,
            "notes": ReservationParameters.notes,
        ],
        required: ["name", "party_size", "date", "time"])

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        let phone = arguments.string("phone") ?? context.callerPhone.flatMap(PhoneNumber.e164)
        let reservation = try await book.create(
            .init(
                name: arguments.string("name") ?? "", phone: phone, partySize: arguments.integer("party_size")!,
                date: try ReservationParameters.date(arguments)!, time: try ReservationParameters.time(arguments)!,
                notes: arguments.string("notes"), source: source, callID: context.callID),
            actor: "agent")
        return ReservationParameters.describe(reservation, timeZone: book.availability.policy.timeZone)
    }
}
