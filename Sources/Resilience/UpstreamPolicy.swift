/// How calls to one provider are bounded: per-attempt timeout, retries, circuit breaker and concurrency.
public struct UpstreamPolicy: Sendable, Equatable {
    /// The longest one attempt may take (shortened to the caller's deadline when that comes first).
    public var requestTimeout: Duration
    public var retry: RetryPolicy
    public var breaker: CircuitBreakerPolicy
    /// Calls in flight to the provider at once; later ones queue.
    public var maxConcurrent: Int
    /// The longest a call waits in the queue for a free slot.
    public var queueTimeout: Duration

    /// Defaults suit an interactive phone call: a stalled provider is abandoned after 10 s and a queue wait
    /// longer than 2 s is worse than falling back.
    public init(
        requestTimeout: Duration = .seconds(10),
        retry: RetryPolicy = RetryPolicy(),
        breaker: CircuitBreakerPolicy = CircuitBreakerPolicy(),
        maxConcurrent: Int = 8,
        queueTimeout: Duration = .seconds(2)
    ) {
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.breaker = breaker
        self.maxConcurrent = maxConcurrent
        self.queueTimeout = queueTimeout
    }
}

/// How the caller judges a failed attempt (see ``Upstream/run(deadline:classify:_:)``).
public enum FailureKind: Sendable, Equatable {
    /// The provider may be down or overloaded (5xx, connection refused, reset): counts against the circuit
    /// breaker and is retried with backoff.
    case retryable
    /// The provider asked us to wait (429 or 503 with Retry-After): all calls to it pause for that long.
    case retryAfter(Duration)
    /// The request itself is wrong (400, 401, 404, a body that does not decode): the provider is up, so the
    /// circuit breaker takes it as an answer, and retrying would fail the same way.
    case permanent
}

/// A provider's health as shown by the health endpoint.
public enum UpstreamHealth: String, Sendable, CaseIterable {
    /// Circuit closed.
    case up
    /// Circuit half-open: a probe is testing whether the provider is back.
    case degraded
    /// Circuit open: calls are refused without trying.
    case down
}
