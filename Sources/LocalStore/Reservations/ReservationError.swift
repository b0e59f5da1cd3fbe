public import ErrorCodes

/// Why a reservation could not be made, changed or cancelled; the message is safe to show the LLM
/// and staff (it holds no personal data).
public struct ReservationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong; extensible without breaking callers.
    public typealias Code = ErrorCode<ReservationError>

    public let code: Code
    public let message: String
    /// For ``Code/unavailable``: the decision, with its alternatives.
    public let decision: AvailabilityDecision?

    public init(_ code: Code, _ message: String, decision: AvailabilityDecision? = nil) {
        self.code = code
        self.message = message
        self.decision = decision
    }

    public var description: String { message }
}

extension ReservationError.Code {
    public static var unavailable: Self { Self("unavailable") }
    public static var invalidName: Self { Self("invalid_name") }
    public static var invalidPhone: Self { Self("invalid_phone") }
    public static var notFound: Self { Self("not_found") }
    public static var ambiguous: Self { Self("ambiguous") }
    public static var alreadyCancelled: Self { Self("already_cancelled") }
}
