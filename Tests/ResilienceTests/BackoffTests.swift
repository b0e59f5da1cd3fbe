import Testing

@testable import Resilience

@Suite("Retry backoff")
struct BackoffTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(2))

    @Test(
        "the cap doubles with each failed attempt up to maxDelay",
        arguments: [
            (1, Duration.milliseconds(100)), (2, .milliseconds(200)), (3, .milliseconds(400)),
            (4, .milliseconds(800)), (5, .milliseconds(1600)), (6, .seconds(2)), (12, .seconds(2)),
        ])
    func capGrowsExponentially(attempt: Int, cap: Duration) {
        #expect(policy.delayCap(afterAttempt: attempt) == cap)
        #expect(policy.delay(afterAttempt: attempt) { $0.upperBound } == cap)
        #expect(policy.delay(afterAttempt: attempt) { $0.lowerBound } == .zero)
        #expect(policy.delay(afterAttempt: attempt) { _ in 0.5 } == cap / 2)
    }

    @Test("full jitter stays within zero and the cap")
    func jitterWithinBounds() {
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...8 {
            let cap = policy.delayCap(afterAttempt: attempt)
            for _ in 0..<500 {
                let delay = policy.delay(afterAttempt: attempt, using: &generator)
                #expect(delay >= .zero && delay <= cap)
            }
        }
    }

    @Test("a random source out of range is clamped")
    func clampsRandom() {
        #expect(policy.delay(afterAttempt: 1) { _ in 7 } == .milliseconds(100))
        #expect(policy.delay(afterAttempt: 1) { _ in -1 } == .zero)
    }

    @Test("a huge attempt number is capped rather than overflowing")
    func hugeAttempt() {
        #expect(policy.delayCap(afterAttempt: .max) == .seconds(2))
        #expect(RetryPolicy(baseDelay: .zero).delayCap(afterAttempt: .max) == .zero)
    }
}
