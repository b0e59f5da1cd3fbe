/// A stable name for one kind of failure, for code that reacts to it (fall back, retry, answer 404).
///
/// `Domain` keeps the codes of one error type apart from every other's: a `StoreError.Code` is not
/// a `ReservationError.Code`. Each error type declares its codes as static members of
/// `ErrorCode<ItsDomain>`, so new codes can be added without breaking callers, and only this
/// package makes new ones.
public struct ErrorCode<Domain>: Hashable, Sendable, CustomStringConvertible {
    /// The code in snake case, as logs and JSON bodies show it (`disk_full`).
    public let name: String

    package init(_ name: String) {
        self.name = name
    }

    public var description: String { name }
}
