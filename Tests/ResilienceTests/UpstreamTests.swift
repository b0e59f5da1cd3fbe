import Logging
import MetricsTestKit
import TestSupport
import Testing

@testable import Resilience

@Suite("Upstream")
struct UpstreamTests {
    /// A provider's answer, as an HTTP client would report it.
    struct HTTPStatusError: Error, Equatable {
        let status: Int
    }

    static func classify(_ error: any Error) -> FailureKind {
        guard let status = (error as? HTTPStatusError)?.status else { return .retryable }
        return switch status {
        case 429: .retryAfter(.seconds(1))
        case 400..<500: .permanent
        default: .retryable
        }
    }

    let metrics = TestMetrics()
    let logs = RecordingLogHandler.Store()
    let calls = SharedCounter()

    /// Timeouts of 5 s or more park (they should not fire); shorter sleeps advance the clock at once.
    func makeUpstream(
        _ policy: UpstreamPolicy = UpstreamPolicy(),
        clock: TestClock = TestClock(parkingAtLeast: .seconds(5))
    ) -> Upstream {
        Upstream(
            name: "elevenlabs", policy: policy, logger: logs.logger(), metricsFactory: metrics,
            now: { clock.now }, sleep: { try await clock.sleep(for: $0) }, random: { $0.upperBound })
    }

    func requests(_ outcome: String) throws -> Int64 {
        try metrics.expectCounter(
            "edge_upstream_requests_total", [("provider", "elevenlabs"), ("outcome", outcome)]
        ).totalValue
    }

    func retries() throws -> Int64 {
        try metrics.expectCounter("edge_upstream_retries_total", [("provider", "elevenlabs")]).totalValue
    }

    func circuitGauge() throws -> Double? {
        try metrics.expectGauge("edge_upstream_circuit_state", [("provider", "elevenlabs")]).lastValue
    }

    @Test("a retryable error is retried after backoff and the call succeeds")
    func retriesThenSucceeds() async throws {
        let clock = TestClock(parkingAtLeast: .seconds(5))
        let upstream = makeUpstream(clock: clock)
        let answer = try await upstream.run(classify: Self.classify) { [calls] in
            if calls.increment() < 3 { throw HTTPStatusError(status: 503) }
            return "audio"
        }
        #expect(answer == "audio")
        #expect(calls.current == 3)
        #expect(clock.sleeps.filter { $0 < .seconds(5) } == [.milliseconds(100), .milliseconds(200)])
        #expect(try requests("success") == 1)
        #expect(try requests("failure") == 2)
        #expect(try retries() == 2)
        #expect(upstream.state == .closed)
    }

    @Test("a permanent error is not retried and does not count against the breaker")
    func permanentNotRetried() async throws {
        let upstream = makeUpstream(UpstreamPolicy(breaker: CircuitBreakerPolicy(failureThreshold: 1)))
        await #expect(throws: HTTPStatusError(status: 400)) {
            try await upstream.run(classify: Self.classify) { [calls] in
                calls.increment()
                throw HTTPStatusError(status: 400)
            }
        }
        #expect(calls.current == 1)
        #expect(upstream.state == .closed)
        #expect(try requests("failure") == 1)
        #expect(try retries() == 0)
    }

    @Test("no retry whose backoff would end past the deadline")
    func noRetryPastDeadline() async throws {
        let clock = TestClock(parkingAtLeast: .milliseconds(500))
        let policy = UpstreamPolicy(retry: RetryPolicy(maxAttempts: 5, baseDelay: .seconds(2), maxDelay: .seconds(8)))
        let upstream = makeUpstream(policy, clock: clock)
        await #expect(throws: HTTPStatusError(status: 503)) {
            try await upstream.run(deadline: clock.now + .seconds(1), classify: Self.classify) { [calls] in
                calls.increment()
                throw HTTPStatusError(status: 503)
            }
        }
        #expect(calls.current == 1)
        #expect(clock.sleeps == [.seconds(1)])  // the attempt's timeout, cut to the deadline; no backoff
        #expect(try retries() == 0)
    }

    @Test("a Retry-After that outlasts the deadline is not waited for")
    func retryAfterPastDeadline() async throws {
        let clock = TestClock(parkingAtLeast: .milliseconds(500))
        let upstream = makeUpstream(clock: clock)
        await #expect(throws: HTTPStatusError(status: 429)) {
            try await upstream.run(deadline: clock.now + .milliseconds(900), classify: Self.classify) { [calls] in
                calls.increment()
                throw HTTPStatusError(status: 429)
            }
        }
        #expect(calls.current == 1)
        #expect(try retries() == 0)
        #expect(upstream.state == .closed)
    }

    @Test("a Retry-After pauses the provider and the retry goes out when the pause ends")
    func retryAfterWaitsForPause() async throws {
        let clock = TestClock(parkingAtLeast: .seconds(5))
        let upstream = makeUpstream(UpstreamPolicy(queueTimeout: .seconds(10)), clock: clock)
        let start = clock.now
        let sentAt = try await upstream.run(classify: Self.classify) { [calls] in
            if calls.increment() == 1 { throw HTTPStatusError(status: 429) }
            return clock.now
        }
        #expect(sentAt == start + .seconds(1))
        #expect(calls.current == 2)
        #expect(try retries() == 1)
    }

    @Test("a hanging operation is cut off as timedOut, which is retried")
    func hangingTimesOut() async throws {
        let clock = TestClock()
        let policy = UpstreamPolicy(requestTimeout: .seconds(1), retry: RetryPolicy(maxAttempts: 2))
        let upstream = makeUpstream(policy, clock: clock)
        await #expect(throws: ResilienceError.timedOut(provider: "elevenlabs", after: .seconds(1))) {
            try await upstream.run(classify: Self.classify) { [calls] () async throws -> String in
                calls.increment()
                try await hangUntilCancelled()
            }
        }
        #expect(calls.current == 2)
        #expect(try requests("timeout") == 2)
        #expect(try retries() == 1)
    }

    @Test("an open circuit refuses at once without calling the operation")
    func circuitOpenRejects() async throws {
        let clock = TestClock(parkingAtLeast: .seconds(5))
        let policy = UpstreamPolicy(
            retry: RetryPolicy(maxAttempts: 1),
            breaker: CircuitBreakerPolicy(failureThreshold: 2, openDuration: .seconds(30)))
        let upstream = makeUpstream(policy, clock: clock)
        let failing: @Sendable () async throws -> String = { [calls] in
            calls.increment()
            throw HTTPStatusError(status: 502)
        }
        for _ in 0..<2 {
            await #expect(throws: HTTPStatusError(status: 502)) {
                try await upstream.run(classify: Self.classify, failing)
            }
        }
        #expect(upstream.health == .down)
        #expect(try circuitGauge() == 2)

        let sleepsBefore = clock.sleeps.count
        await #expect(throws: ResilienceError.circuitOpen(provider: "elevenlabs", retryIn: .seconds(30))) {
            try await upstream.run(classify: Self.classify, failing)
        }
        #expect(calls.current == 2)
        #expect(clock.sleeps.count == sleepsBefore)
        #expect(try requests("rejected") == 1)

        clock.advance(by: .seconds(30))
        #expect(upstream.health == .degraded)
        #expect(try circuitGauge() == 1)
        #expect(try await upstream.run(classify: Self.classify) { "back" } == "back")
        #expect(upstream.health == .up)
        #expect(try circuitGauge() == 0)
    }

    @Test("retries stop once the circuit opens")
    func retriesStopWhenOpen() async throws {
        let policy = UpstreamPolicy(
            retry: RetryPolicy(maxAttempts: 5), breaker: CircuitBreakerPolicy(failureThreshold: 2))
        let upstream = makeUpstream(policy)
        await #expect(throws: HTTPStatusError(status: 500)) {
            try await upstream.run(classify: Self.classify) { [calls] () async throws -> String in
                calls.increment()
                throw HTTPStatusError(status: 500)
            }
        }
        #expect(calls.current == 2)
        #expect(upstream.state == .open)
    }

    @Test("cancelling the caller stops at once and counts as nothing")
    func cancellationNotCounted() async throws {
        let upstream = makeUpstream(UpstreamPolicy(breaker: CircuitBreakerPolicy(failureThreshold: 1)))
        let call = Task { [calls] in
            try await upstream.run(classify: Self.classify) { () async throws -> String in
                calls.increment()
                try await hangUntilCancelled()
            }
        }
        await waitUntil { calls.current == 1 }
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(calls.current == 1)
        #expect(upstream.state == .closed)
        #expect(try requests("failure") == 0)
        #expect(try requests("timeout") == 0)
        #expect(try retries() == 0)
    }

    @Test("circuit changes are logged with the provider, opening as a warning")
    func logsStateChanges() async throws {
        let upstream = makeUpstream(
            UpstreamPolicy(retry: RetryPolicy(maxAttempts: 1), breaker: CircuitBreakerPolicy(failureThreshold: 1)))
        await #expect(throws: HTTPStatusError(status: 500)) {
            try await upstream.run(classify: Self.classify) { () async throws -> String in
                throw HTTPStatusError(status: 500)
            }
        }
        let opened = try #require(logs.all.first { $0.message.contains("circuit opened") })
        #expect(opened.level == .warning)
        #expect(opened.metadata["upstream.provider"] == "elevenlabs")
        #expect(opened.metadata["upstream.circuit.to"] == "open")
    }
}
