public import CoreMetrics
public import Logging

/// Everything between the agent and one provider (`elevenlabs`, `llm`, `llm_fallback`, `deepgram`,
/// `transcription`, `twilio`, `headquarters`): circuit breaker, concurrency limit, per-attempt timeout and
/// retries with backoff, with metrics and logs for each.
///
/// Make one per provider at start-up and share it among calls.
public final class Upstream: Sendable {
    /// The provider's name, used as the `provider` metric dimension and in error messages.
    public let name: String
    public let policy: UpstreamPolicy
    let breaker: CircuitBreaker
    let limiter: ConcurrencyLimiter
    private let logger: Logger
    private let now: @Sendable () -> ContinuousClock.Instant
    private let sleep: @Sendable (Duration) async throws -> Void
    private let random: @Sendable (ClosedRange<Double>) -> Double
    private let metrics: Metrics

    /// Metric handles, made once here rather than per request.
    private struct Metrics: Sendable {
        let successes: Counter
        let failures: Counter
        let timeouts: Counter
        let rejections: Counter
        let retries: Counter
    }

    /// - Parameters:
    ///   - now: The clock reading; tests pass a manual one.
    ///   - sleep: How waiting on time happens (timeouts, backoff, pauses); tests pass a controllable one.
    ///   - random: Returns a number in the range it is given, for backoff jitter.
    public init(
        name: String,
        policy: UpstreamPolicy = UpstreamPolicy(),
        logger: Logger,
        metricsFactory: any MetricsFactory,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        random: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
    ) {
        precondition(policy.retry.maxAttempts >= 1, "RetryPolicy.maxAttempts of \(name) must be at least 1")
        precondition(policy.requestTimeout > .zero, "UpstreamPolicy.requestTimeout of \(name) must be positive")
        self.name = name
        self.policy = policy
        var logger = logger
        logger[metadataKey: "upstream.provider"] = "\(name)"
        self.logger = logger
        self.now = now
        self.sleep = sleep
        self.random = random

        let requests = "edge_upstream_requests_total"
        func outcome(_ outcome: String) -> Counter {
            Counter(label: requests, dimensions: [("provider", name), ("outcome", outcome)], factory: metricsFactory)
        }
        metrics = Metrics(
            successes: outcome("success"),
            failures: outcome("failure"),
            timeouts: outcome("timeout"),
            rejections: outcome("rejected"),
            retries: Counter(
                label: "edge_upstream_retries_total", dimensions: [("provider", name)], factory: metricsFactory)
        )
        let gauge = Gauge(
            label: "edge_upstream_circuit_state", dimensions: [("provider", name)], factory: metricsFactory)
        gauge.record(Self.gaugeValue(.closed))
        let openDuration = policy.breaker.openDuration
        breaker = CircuitBreaker(policy: policy.breaker, now: now) { [logger] from, to in
            gauge.record(Self.gaugeValue(to))
            let metadata: Logger.Metadata = [
                "upstream.circuit.from": "\(from.rawValue)", "upstream.circuit.to": "\(to.rawValue)",
            ]
            switch to {
            case .open:
                logger.warning(
                    "upstream circuit opened: calls are refused for \(openDuration.forHumans)", metadata: metadata)
            case .halfOpen:
                logger.info("upstream circuit half-open: the next call probes the provider", metadata: metadata)
            case .closed:
                logger.info("upstream circuit closed: the provider answers again", metadata: metadata)
            }
        }
        limiter = ConcurrencyLimiter(name: name, maxConcurrent: policy.maxConcurrent, now: now, sleep: sleep)
    }

    /// The circuit breaker's state.
    public var state: CircuitState { breaker.state }

    /// The provider's health for the health endpoint: up (closed), degraded (half-open) or down (open).
    public var health: UpstreamHealth {
        switch state {
        case .closed: .up
        case .halfOpen: .degraded
        case .open: .down
        }
    }

    /// Runs `operation` against the provider with the circuit breaker, concurrency limit, timeout and retries.
    ///
    /// An open circuit refuses at once without calling `operation`. Each attempt runs with a timeout of
    /// `requestTimeout` or the time left before `deadline`, whichever is shorter; `operation` must honour
    /// cancellation, which is how a timed-out attempt is stopped. Failures are retried as `classify` says,
    /// never past `deadline`. Cancelling the caller stops at once and counts as nothing.
    ///
    /// Each attempt adds one to `edge_upstream_requests_total` with outcome `success`, `failure` or `timeout`;
    /// a call refused before reaching the provider (open circuit, no free slot, rate-limit pause) adds `rejected`.
    ///
    /// - Parameters:
    ///   - deadline: When the caller stops caring about the answer; nil leaves only the per-attempt timeout.
    ///   - classify: Judges an error thrown by `operation`.
    /// - Throws: ``ResilienceError`` (`circuitOpen`, `timedOut`, `limitReached`, `rateLimited`), the last error
    ///   thrown by `operation` when it is not retried, or `CancellationError`.
    public func run<T: Sendable>(
        deadline: ContinuousClock.Instant? = nil,
        classify: @Sendable (any Error) -> FailureKind,
        _ operation: @Sendable () async throws -> T
    ) async throws -> T {
        // The attempt's child tasks never outlive this call, so `operation` does not really escape.
        try await withoutActuallyEscaping(operation) { operation in
            try await run(deadline: deadline, classify: classify, escaping: operation)
        }
    }

    private func run<T: Sendable>(
        deadline: ContinuousClock.Instant?,
        classify: @Sendable (any Error) -> FailureKind,
        escaping operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        var attempt = 0
        var queueWait = policy.queueTimeout
        while true {
            attempt += 1
            let admission = breaker.acquire()
            if case .rejected(let retryIn) = admission {
                metrics.rejections.increment()
                throw ResilienceError.circuitOpen(provider: name, retryIn: retryIn)
            }
            let isProbe = admission == .probe

            var waitLimit = queueWait
            if let deadline {
                let left = deadline - now()
                guard left > .zero else {
                    if isProbe { breaker.recordInconclusive() }
                    metrics.timeouts.increment()
                    throw ResilienceError.timedOut(provider: name, after: .zero)
                }
                waitLimit = min(waitLimit, left)
            }
            do {
                try await limiter.acquire(waitingAtMost: waitLimit)
            } catch {
                if isProbe { breaker.recordInconclusive() }
                if !Task.isCancelled { metrics.rejections.increment() }
                throw error
            }

            let timeout = deadline.map { max(.zero, min(policy.requestTimeout, $0 - now())) } ?? policy.requestTimeout
            let result: Result<T, any Error>
            do {
                result = .success(try await attemptOnce(timeout: timeout, operation))
            } catch {
                result = .failure(error)
            }
            limiter.release()

            let failure: any Error
            switch result {
            case .success(let value):
                breaker.recordSuccess()
                metrics.successes.increment()
                return value
            case .failure(let error):
                failure = error
            }
            if Task.isCancelled {
                if isProbe { breaker.recordInconclusive() }
                throw failure
            }

            let kind: FailureKind
            let thrown: any Error
            if failure is AttemptTimedOut {
                metrics.timeouts.increment()
                kind = .retryable
                thrown = ResilienceError.timedOut(provider: name, after: timeout)
            } else {
                metrics.failures.increment()
                kind = classify(failure)
                thrown = failure
            }

            switch kind {
            case .permanent:
                breaker.recordSuccess()
                throw thrown
            case .retryable:
                breaker.recordFailure()
                guard attempt < policy.retry.maxAttempts else { throw thrown }
                let delay = policy.retry.delay(afterAttempt: attempt, random: random)
                if let deadline, now() + delay >= deadline { throw thrown }
                if breaker.state == .open { throw thrown }
                metrics.retries.increment()
                logger.debug(
                    "retrying upstream call after a failure",
                    metadata: retryMetadata(attempt: attempt, delay: delay, failure: failure))
                try await sleep(delay)
                queueWait = policy.queueTimeout
            case .retryAfter(let delay):
                if isProbe { breaker.recordInconclusive() }
                limiter.pause(until: now() + delay)
                guard attempt < policy.retry.maxAttempts else { throw thrown }
                if let deadline, now() + delay >= deadline { throw thrown }
                metrics.retries.increment()
                logger.debug(
                    "retrying upstream call after the provider asked to wait",
                    metadata: retryMetadata(attempt: attempt, delay: delay, failure: failure))
                // The limiter holds the next attempt until the pause ends, so the queue wait covers it.
                queueWait = delay + policy.queueTimeout
            }
        }
    }

    /// Runs one attempt, racing it against `timeout`.
    private func attemptOnce<T: Sendable>(
        timeout: Duration,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await self.sleep(timeout)
                throw AttemptTimedOut()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }

    /// The error's type only: its description may carry request data.
    private func retryMetadata(attempt: Int, delay: Duration, failure: any Error) -> Logger.Metadata {
        [
            "upstream.attempt": "\(attempt)",
            "upstream.retry_in_ms": "\(delay / .milliseconds(1))",
            "upstream.error_type": "\(type(of: failure))",
        ]
    }

    private static func gaugeValue(_ state: CircuitState) -> Int {
        switch state {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }
}

/// The timeout side of an attempt's race won.
private struct AttemptTimedOut: Error {}
