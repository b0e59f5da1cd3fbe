public import LocalStore

/// `update_reservation`: moves, resizes or annotates an upcoming reservation.
public struct UpdateReservationTool: AgentTool {
    let book: ReservationBook

    /// Texts the caller a confirmation; nil when texts are not set up.
    let texts: TextConfirmationWriter?

    public init(book: ReservationBook, texts: TextConfirmationWriter? = nil) {
        self.texts = texts
        self.book = book
    }

    public let name = "update_reservation"
    public let description =
        "Change an upcoming reservation's date, time, party size or notes. Find it by reservation_id, or by phone (the caller's number when omitted) and optionally its current date."
    public let parameters = JSONSchema.object(
        properties: [
            "reservation_id": ReservationParameters.reservationID, "phone": ReservationParameters.phone,
            "date": ReservationParameters.date, "time": ReservationParameters.time,
            "party_size": ReservationParameters.partySize, "notes": ReservationParameters.notes,
            "current_date": .string(
                description: "The reservation's current date, to pick it among several",
                pattern: "[0-9]{4}-[0-9]{2}-[0-9]{2}"),
        ],
        required: [])

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        var lookup = arguments.values
        lookup["date"] = arguments.values["current_date"]
        let reservation = try await ReservationParameters.resolve(ToolArguments(lookup), context: context, book: book)
        let changes = ReservationBook.Changes(
            date: try ReservationParameters.date(arguments), time: try ReservationParameters.time(arguments),
            partySize: arguments.integer("party_size"), notes: arguments.string("notes"))
        guard changes.date != nil || changes.time != nil || changes.partySize != nil || changes.notes != nil else {
            throw ToolError("nothing to change: give date, time, party_size or notes")
        }
        let timeZone = book.availability.policy.timeZone
        if ReservationParameters.alreadyHas(reservation, changes, timeZone: timeZone) {
            // Asked again (a repeated request): the booking already reads this way; nothing is written.
            return ReservationParameters.describe(reservation, timeZone: timeZone).adding(["already_updated": true])
        }
        let updated = try await book.update(
            id: reservation.id, changes, actor: "agent",
            confirmation: texts?.confirmation(.changed, context: context, timeZone: timeZone))
        return ReservationParameters.describe(updated, timeZone: timeZone)
    }
}
