/// A configuration problem found at start-up; `serve` prints its message on one line and exits with code 2.
///
/// The message names the setting and where it came from, and never repeats a secret's value.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "configuration error: \(message)" }
}
