public import LocalStore
public import Sync

/// `create_reservation`: books a table, under the caller's number unless another is given.
public struct CreateReservationTool: AgentTool {
    let book: ReservationBook
    let source: Reservation.Source
    /// Texts the caller a confirmation; nil when texts are not set up.
    let texts: TextConfirmationWriter?

    public init(book: ReservationBook, source: Reservation.Source = .phoneAgent, texts: TextConfirmationWriter? = nil) {
        self.book = book
        self.source = source
        self.texts = texts
    }

    public let name = "create_reservation"
    public let description =
        "Book a table. Confirm the name, party size, date and time with the caller first. The caller's phone number is used unless another is given. Asking again for a table this call (or this phone, minutes ago) already booked returns that booking with already_booked true; set additional_table only when the caller wants a second table at the same time."
    public let parameters = JSONSchema.object(
        properties: [
            "name": .string(description: "The name the table is booked under", maxLength: 100),
            "party_size": ReservationParameters.partySize, "date": ReservationParameters.date,
            "time": ReservationParameters.time, "phone": ReservationParameters.phone,
            "notes": ReservationParameters.notes,
            "additional_table": .boolean(
                description:
                    "True only when the caller wants another table besides one they already booked for this time"),
        ],
        required: ["name", "party_size", "date", "time"])

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        let phone = arguments.string("phone") ?? context.callerPhone.flatMap(PhoneNumber.e164)
        let booking = try await book.bookOnce(
            .init(
                name: arguments.string("name") ?? "", phone: phone, partySize: arguments.integer("party_size")!,
                date: try ReservationParameters.date(arguments)!, time: try ReservationParameters.time(arguments)!,
                notes: arguments.string("notes"), source: source, callID: context.callID,
                additionalTable: arguments.values["additional_table"] == .bool(true)),
            actor: "agent",
            confirmation: texts?.confirmation(.booked, context: context, timeZone: book.availability.policy.timeZone))
        let result = ReservationParameters.describe(booking.reservation, timeZone: book.availability.policy.timeZone)
        return booking.alreadyBooked ? result.adding(["already_booked": true]) : result
    }
}
