/// A failure that is a code and a message, nothing more: the shape of most of this package's errors.
///
/// The message is for a technician, says what to check or do, and never holds a secret or
/// personal data; `description` is the message, so a log line or an exit message reads as it.
/// Errors that carry more (an HTTP status, a retry delay) are their own types with an
/// ``ErrorCode`` for their code.
public struct CodedError<Domain>: Error, Sendable, Equatable, CustomStringConvertible {
    /// The codes of this kind of error: static members of `ErrorCode<Domain>`.
    public typealias Code = ErrorCode<Domain>

    /// What kind of failure it is, for code that reacts to it.
    public let code: Code
    /// What happened and what to check, for a technician.
    public let message: String

    /// A failure of kind `code`, described by `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
