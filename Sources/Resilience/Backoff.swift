/// How many times a call is tried and how long to wait between tries.
///
/// The wait uses exponential backoff with full jitter (a uniform draw between zero and the cap), which
/// spreads the retries of many callers instead of having them hit a recovering provider in step.
public struct RetryPolicy: Sendable, Equatable {
    /// Total attempts, the first one included (1 means no retry).
    public var maxAttempts: Int
    /// The cap of the wait after the first failed attempt; it doubles with each further failure.
    public var baseDelay: Duration
    /// The largest cap, however many attempts failed.
    public var maxDelay: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(2)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The longest wait after failed attempt number `attempt` (1-based): `min(maxDelay, baseDelay · 2^(attempt−1))`.
    public func delayCap(afterAttempt attempt: Int) -> Duration {
        precondition(attempt >= 1, "attempts are numbered from 1")
        var cap = baseDelay
        var doublings = attempt - 1
        // Doubling stops at the cap, so a large attempt number neither overflows nor loops for long.
        while doublings > 0, cap > .zero, cap < maxDelay {
            cap *= 2
            doublings -= 1
        }
        return max(.zero, min(cap, maxDelay))
    }

    /// The wait after failed attempt number `attempt` (1-based): uniform in `0...delayCap(afterAttempt:)`.
    ///
    /// - Parameter random: Returns a number in the range it is given; tests pass a fixed one.
    public func delay(
        afterAttempt attempt: Int,
        random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
    ) -> Duration {
        let fraction = min(max(random(0...1), 0), 1)
        return delayCap(afterAttempt: attempt) * fraction
    }

    /// The wait after failed attempt number `attempt` (1-based), drawn from `generator`.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        delay(afterAttempt: attempt) { Double.random(in: $0, using: &generator) }
    }
}
