import Synchronization
import Testing

@testable import Resilience

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    let clock = TestClock()
    let transitions = SharedList<String>()

    func makeBreaker(threshold: Int = 3, openFor: Duration = .seconds(30)) -> CircuitBreaker {
        CircuitBreaker(
            policy: CircuitBreakerPolicy(failureThreshold: threshold, openDuration: openFor),
            now: { [clock] in clock.now },
            onStateChange: { [transitions] from, to in transitions.append("\(from.rawValue)->\(to.rawValue)") })
    }

    @Test("opens after the threshold of consecutive failures, and a success resets the count")
    func opensAtThreshold() {
        let breaker = makeBreaker(threshold: 3)
        breaker.recordFailure()
        breaker.recordFailure()
        breaker.recordSuccess()
        breaker.recordFailure()
        breaker.recordFailure()
        #expect(breaker.state == .closed)
        #expect(breaker.acquire() == .allowed)
        breaker.recordFailure()
        #expect(breaker.state == .open)
        #expect(transitions.all == ["closed->open"])
    }

    @Test("rejects while open, saying how long is left")
    func rejectsWhileOpen() {
        let breaker = makeBreaker(threshold: 1, openFor: .seconds(30))
        breaker.recordFailure()
        #expect(breaker.acquire() == .rejected(retryIn: .seconds(30)))
        clock.advance(by: .seconds(12))
        #expect(breaker.acquire() == .rejected(retryIn: .seconds(18)))
        #expect(breaker.state == .open)
    }

    @Test("a late result while open changes nothing")
    func ignoresStragglers() {
        let breaker = makeBreaker(threshold: 1)
        breaker.recordFailure()
        clock.advance(by: .seconds(10))
        breaker.recordFailure()
        breaker.recordSuccess()
        #expect(breaker.acquire() == .rejected(retryIn: .seconds(20)))
    }

    @Test("half-open admits exactly one probe at a time")
    func oneProbe() {
        let breaker = makeBreaker(threshold: 1, openFor: .seconds(30))
        breaker.recordFailure()
        clock.advance(by: .seconds(30))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.acquire() == .probe)
        for _ in 0..<5 {
            guard case .rejected = breaker.acquire() else {
                Issue.record("a second caller was admitted while the probe is out")
                return
            }
        }
        #expect(transitions.all == ["closed->open", "open->half_open"])
    }

    @Test("a successful probe closes the circuit")
    func probeSuccessCloses() {
        let breaker = makeBreaker(threshold: 1)
        breaker.recordFailure()
        clock.advance(by: .seconds(30))
        #expect(breaker.acquire() == .probe)
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
        #expect(breaker.acquire() == .allowed)
        #expect(breaker.acquire() == .allowed)
        #expect(transitions.all == ["closed->open", "open->half_open", "half_open->closed"])
    }

    @Test("a failed probe reopens the circuit for a full open period")
    func probeFailureReopens() {
        let breaker = makeBreaker(threshold: 1, openFor: .seconds(30))
        breaker.recordFailure()
        clock.advance(by: .seconds(45))
        #expect(breaker.acquire() == .probe)
        clock.advance(by: .seconds(2))
        breaker.recordFailure()
        #expect(breaker.state == .open)
        #expect(breaker.acquire() == .rejected(retryIn: .seconds(30)))
        #expect(transitions.all == ["closed->open", "open->half_open", "half_open->open"])
    }

    @Test("an inconclusive probe lets the next caller probe")
    func inconclusiveProbe() {
        let breaker = makeBreaker(threshold: 1)
        breaker.recordFailure()
        clock.advance(by: .seconds(30))
        #expect(breaker.acquire() == .probe)
        breaker.recordInconclusive()
        #expect(breaker.acquire() == .probe)
        #expect(breaker.state == .halfOpen)
    }

    @Test("a probe that never reports is presumed lost after the open period")
    func lostProbe() {
        let breaker = makeBreaker(threshold: 1, openFor: .seconds(30))
        breaker.recordFailure()
        clock.advance(by: .seconds(30))
        #expect(breaker.acquire() == .probe)
        clock.advance(by: .seconds(10))
        #expect(breaker.acquire() == .rejected(retryIn: .seconds(20)))
        clock.advance(by: .seconds(20))
        #expect(breaker.acquire() == .probe)
    }
}
