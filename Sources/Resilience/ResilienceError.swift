public import ErrorCodes

/// Why a call to a provider was not made or did not finish, in words a technician can act on.
///
/// The message names the provider and never contains request data.
public struct ResilienceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of refusal; stable, for code that reacts to it (fall back, tell the caller to hold on).
    public typealias Code = ErrorCode<ResilienceError>

    public let code: Code
    /// The provider's name (`elevenlabs`, `llm`, ...).
    public let provider: String
    /// For `circuitOpen` and `rateLimited`: how long until the provider may be tried again.
    public let retryIn: Duration?
    /// For `timedOut` and `limitReached`: how long was waited.
    public let waited: Duration?
    private let message: String

    private init(_ code: Code, provider: String, retryIn: Duration? = nil, waited: Duration? = nil, message: String) {
        self.code = code
        self.provider = provider
        self.retryIn = retryIn
        self.waited = waited
        self.message = message
    }

    /// The provider's circuit is open; nothing was sent.
    public static func circuitOpen(provider: String, retryIn: Duration) -> ResilienceError {
        ResilienceError(
            .circuitOpen, provider: provider, retryIn: retryIn,
            message: "\(provider) is failing: circuit open, next try in \(retryIn.forHumans); "
                + "check the provider's status page, the network, and the warnings logged when it opened")
    }

    /// An attempt did not finish within `after`.
    public static func timedOut(provider: String, after: Duration) -> ResilienceError {
        ResilienceError(
            .timedOut, provider: provider, waited: after,
            message: "\(provider) did not answer within \(after.forHumans): check the network and the provider's "
                + "status page, or raise its request timeout")
    }

    /// No request slot became free within `waited`; nothing was sent.
    public static func limitReached(provider: String, waited: Duration, maxConcurrent: Int) -> ResilienceError {
        ResilienceError(
            .limitReached, provider: provider, waited: waited,
            message: "\(provider) is busy: all \(maxConcurrent) request slots stayed in use for \(waited.forHumans); "
                + "its requests are slow or too many calls run at once (raise its concurrency limit or queue wait)")
    }

    /// The provider asked us to wait longer than the caller can; nothing was sent.
    public static func rateLimited(provider: String, retryIn: Duration) -> ResilienceError {
        ResilienceError(
            .rateLimited, provider: provider, retryIn: retryIn,
            message: "\(provider) is rate limiting us (429 Retry-After): next try in \(retryIn.forHumans); "
                + "check the account's plan and usage")
    }

    public var description: String { message }
}

extension ResilienceError.Code {
    /// The provider failed repeatedly and its circuit breaker is open.
    public static var circuitOpen: Self { Self("circuit_open") }
    /// An attempt took longer than its timeout (or the caller's deadline).
    public static var timedOut: Self { Self("timed_out") }
    /// No request slot became free within the queue wait.
    public static var limitReached: Self { Self("limit_reached") }
    /// The provider asked us to wait (429 with Retry-After) for longer than the caller can.
    public static var rateLimited: Self { Self("rate_limited") }
}
