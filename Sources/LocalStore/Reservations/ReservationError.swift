/// Why a reservation could not be made, changed or cancelled; the message is safe to show the LLM
/// and staff (it holds no personal data).
public struct ReservationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong; extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let value: String
        private init(_ value: String) { self.value = value }

        public static let unavailable = Code("unavailable")
        public static let invalidName = Code("invalid_name")
        public static let invalidPhone = Code("invalid_phone")
        public static let notFound = Code("not_found")
        public static let ambiguous = Code("ambiguous")
        public static let alreadyCancelled = Code("already_cancelled")

        public var description: String { value }
    }

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
