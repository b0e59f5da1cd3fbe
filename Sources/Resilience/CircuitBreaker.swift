import Synchronization

/// Where a circuit breaker stands; the raw values are the ones shown in logs and health reports.
public enum CircuitState: String, Sendable, CaseIterable {
    /// Calls go through; consecutive failures are being counted.
    case closed
    /// Calls are refused at once until the open period ends.
    case open
    /// The open period is over: one probe call may test whether the provider is back.
    case halfOpen = "half_open"
}

/// When a circuit breaker opens and how long it stays open.
public struct CircuitBreakerPolicy: Sendable, Equatable {
    /// Consecutive failures that open the circuit (at least 1).
    public var failureThreshold: Int
    /// How long an open circuit refuses calls before it lets one probe through.
    public var openDuration: Duration

    public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(30)) {
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
    }
}

/// A circuit breaker for one provider: after `failureThreshold` consecutive failures it refuses calls
/// for `openDuration`, then admits one probe whose outcome closes or reopens it.
///
/// A pure state machine: it never waits and reads time only through the injected `now`, so tests drive it
/// without sleeping. Results that arrive while the circuit is open (from calls admitted before it opened)
/// are ignored, so a slow straggler neither extends nor shortens the open period.
public final class CircuitBreaker: Sendable {
    /// The breaker's answer to "may I call the provider now?".
    public enum Admission: Sendable, Equatable {
        /// The circuit is closed: call, then report the outcome.
        case allowed
        /// The circuit is half-open and this caller is the one probe: call, then report the outcome
        /// (or ``CircuitBreaker/recordInconclusive()`` if the call never reached the provider).
        case probe
        /// Do not call; the circuit may admit a call after `retryIn`.
        case rejected(retryIn: Duration)
    }

    private enum Phase {
        case closed(consecutiveFailures: Int)
        case open(until: ContinuousClock.Instant)
        /// `probeLease` is when the probe in flight is presumed lost (nil: no probe in flight).
        case halfOpen(probeLease: ContinuousClock.Instant?)

        var state: CircuitState {
            switch self {
            case .closed: .closed
            case .open: .open
            case .halfOpen: .halfOpen
            }
        }
    }

    public let policy: CircuitBreakerPolicy
    private let now: @Sendable () -> ContinuousClock.Instant
    private let onStateChange: @Sendable (_ from: CircuitState, _ to: CircuitState) -> Void
    private let phase: Mutex<Phase>

    /// - Parameters:
    ///   - now: The clock reading; tests pass a manual one.
    ///   - onStateChange: Called on every transition, in order, while the breaker's lock is held: keep it short
    ///     (set a gauge, write a log line) and do not call back into the breaker from it.
    public init(
        policy: CircuitBreakerPolicy = CircuitBreakerPolicy(),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        onStateChange: @escaping @Sendable (_ from: CircuitState, _ to: CircuitState) -> Void = { _, _ in }
    ) {
        precondition(policy.failureThreshold >= 1, "CircuitBreakerPolicy.failureThreshold must be at least 1")
        precondition(policy.openDuration > .zero, "CircuitBreakerPolicy.openDuration must be positive")
        self.policy = policy
        self.now = now
        self.onStateChange = onStateChange
        self.phase = Mutex(.closed(consecutiveFailures: 0))
    }

    /// The current state; an open circuit whose open period has ended reads as half-open.
    public var state: CircuitState {
        let now = now()
        return phase.withLock { phase in
            if case .open(let until) = phase, now >= until {
                transition(&phase, to: .halfOpen(probeLease: nil))
            }
            return phase.state
        }
    }

    /// Asks to call the provider. Half-open admits exactly one probe at a time; a probe that never reports
    /// is presumed lost after `openDuration`, so a forgotten probe cannot wedge the breaker.
    public func acquire() -> Admission {
        let now = now()
        return phase.withLock { phase in
            switch phase {
            case .closed:
                return .allowed
            case .open(let until):
                guard now >= until else { return .rejected(retryIn: until - now) }
                transition(&phase, to: .halfOpen(probeLease: now + policy.openDuration))
                return .probe
            case .halfOpen(let lease):
                if let lease, now < lease { return .rejected(retryIn: lease - now) }
                phase = .halfOpen(probeLease: now + policy.openDuration)
                return .probe
            }
        }
    }

    /// Reports that the provider answered: resets the failure count, and closes a half-open circuit.
    public func recordSuccess() {
        phase.withLock { phase in
            switch phase {
            case .closed: phase = .closed(consecutiveFailures: 0)
            case .halfOpen: transition(&phase, to: .closed(consecutiveFailures: 0))
            case .open: break
            }
        }
    }

    /// Reports that the provider failed: opens the circuit at the threshold; a failed probe reopens it for a
    /// full `openDuration`.
    public func recordFailure() {
        let now = now()
        phase.withLock { phase in
            switch phase {
            case .closed(let failures):
                if failures + 1 >= policy.failureThreshold {
                    transition(&phase, to: .open(until: now + policy.openDuration))
                } else {
                    phase = .closed(consecutiveFailures: failures + 1)
                }
            case .halfOpen:
                transition(&phase, to: .open(until: now + policy.openDuration))
            case .open:
                break
            }
        }
    }

    /// Reports that an admitted call says nothing about the provider's health (the caller was cancelled, it
    /// never got a request slot, or the provider asked us to slow down): frees the probe slot so the next
    /// caller may probe. Does nothing outside half-open.
    public func recordInconclusive() {
        phase.withLock { phase in
            if case .halfOpen = phase { phase = .halfOpen(probeLease: nil) }
        }
    }

    private func transition(_ phase: inout Phase, to next: Phase) {
        let from = phase.state
        phase = next
        if from != next.state { onStateChange(from, next.state) }
    }
}
