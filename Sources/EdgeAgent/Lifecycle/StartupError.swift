/// A reason `serve` cannot start, printed on one line before a non-zero exit.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
