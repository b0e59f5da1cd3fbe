public import LocalStore

/// `cancel_reservation`: cancels an upcoming reservation, freeing its seats.
public struct CancelReservationTool: AgentTool {
    let book: ReservationBook

    public init(book: ReservationBook) {
        self.book = book
    }

    public let name = "cancel_reservation"
    public let description =
        "Cancel an upcoming reservation. Find it by reservation_id, or by phone (the caller's number when omitted) and optionally its date. Confirm with the caller first."
    public let parameters = JSONSchema.object(
        properties: [
            "reservation_id": ReservationParameters.reservationID, "phone": ReservationParameters.phone,
            "date": ReservationParameters.date,
        ],
        required: [])

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        let reservation = try await ReservationParameters.resolve(arguments, context: context, book: book)
        let cancelled = try await book.cancel(id: reservation.id, actor: "agent")
        return ReservationParameters.describe(cancelled, timeZone: book.availability.policy.timeZone)
    }
}
