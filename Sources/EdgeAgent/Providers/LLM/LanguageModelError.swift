public import ErrorCodes

/// A failed chat completion, with what the resilience layer needs to decide on a retry.
public struct LanguageModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure; extensible without breaking callers.
    public typealias Code = ErrorCode<LanguageModelError>

    public let code: Code
    /// The HTTP status, for ``Code/status``.
    public let status: Int?
    /// The server's error message (never contains our key).
    public let message: String
    /// Seconds the server asked us to wait (`retry-after-ms` / `retry-after`).
    public let retryAfter: Double?

    public init(_ code: Code, status: Int? = nil, message: String, retryAfter: Double? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    /// Whether the same request may succeed later: 408, 409, 429 and 5xx, and transport failures.
    public var isRetryable: Bool {
        switch code {
        case .transport: return true
        case .status: return status.map { [408, 409, 429].contains($0) || $0 >= 500 } ?? false
        default: return false
        }
    }

    public var description: String {
        "chat completion failed (\(code)\(status.map { " \($0)" } ?? "")): \(message)"
    }
}

extension LanguageModelError.Code {
    /// The server answered with an error status.
    public static var status: Self { Self("status") }
    /// The server sent an `error` object in the middle of the stream.
    public static var streamError: Self { Self("stream_error") }
    /// The body was not the documented event stream.
    public static var malformed: Self { Self("malformed") }
    /// No answer, or a broken connection.
    public static var transport: Self { Self("transport") }
}
