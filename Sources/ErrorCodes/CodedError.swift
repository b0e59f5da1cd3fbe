/// A failure that is a code and a message, nothing more: the shape of most of this package's errors.
///
/// The message is for a technician, says what to check or do, and never holds a secret or
/// personal data; `description` is the message, so a log line or an exit message reads as it.
/// Errors that carry more (an HTTP status, a retry delay) are their own types with an
/// ``ErrorCode`` for their code.
public struct CodedError<Domain>: Error, Sendable, Equatable, CustomStringConvertible {
    public typealias Code = ErrorCode<Domain>

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
