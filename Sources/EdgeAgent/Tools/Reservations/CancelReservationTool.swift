public import LocalStore
import Sync

/// `cancel_reservation`: cancels an upcoming reservation, freeing its seats.
public struct CancelReservationTool: AgentTool {
    let book: ReservationBook

    /// Texts the caller a confirmation; nil when texts are not set up.
    let texts: TextConfirmationWriter?

    public init(book: ReservationBook, texts: TextConfirmationWriter? = nil) {
        self.texts = texts
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
        let timeZone = book.availability.policy.timeZone
        let reservation: Reservation
        do {
            reservation = try await ReservationParameters.resolve(arguments, context: context, book: book)
        } catch let error as ToolError {
            // Asked again for a booking cancelled moments ago: it is cancelled; say so rather than "not found".
            guard arguments.string("reservation_id") == nil,
                let phone = (arguments.string("phone") ?? context.callerPhone).flatMap(PhoneNumber.e164),
                let recent = try await book.recentlyCancelled(
                    phone: phone, on: try ReservationParameters.date(arguments))
            else { throw error }
            return ReservationParameters.describe(recent, timeZone: timeZone).adding(["already_cancelled": true])
        }
        guard reservation.status == .confirmed else {
            guard reservation.status == .cancelled else {
                throw ToolError(
                    "reservation \(reservation.id) is \(reservation.status.rawValue) and cannot be cancelled")
            }
            return ReservationParameters.describe(reservation, timeZone: timeZone).adding(["already_cancelled": true])
        }
        let cancelled = try await book.cancel(
            id: reservation.id, actor: "agent",
            confirmation: texts?.confirmation(.cancelled, context: context, timeZone: timeZone))
        return ReservationParameters.describe(cancelled, timeZone: timeZone)
    }
}
