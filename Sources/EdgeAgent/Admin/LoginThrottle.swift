import Foundation
import Synchronization

/// Failed logins per remote address: after `limit` failures within `window`, that address is
/// refused (429) until the oldest failure leaves the window, whatever it sends, so a token or PIN
/// cannot be guessed at speed. A success does not clear earlier failures.
public final class LoginThrottle: Sendable {
    let limit: Int
    let window: Duration
    let now: @Sendable () -> ContinuousClock.Instant
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])

    public init(
        limit: Int = 5, window: Duration = .seconds(300),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.limit = limit
        self.window = window
        self.now = now
    }

    /// How long `address` must wait before it may try again; nil when it may try now.
    public func retryAfter(_ address: String) -> Duration? {
        let now = now()
        return failures.withLock { failures in
            let recent = (failures[address] ?? []).filter { now - $0 < window }
            failures[address] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return window - (now - oldest)
        }
    }

    /// Starts an attempt from `address`: nil and the attempt counted as a failure until
    /// ``forgive(_:)`` says it succeeded, or how long to wait. Counting before the credentials are
    /// checked means requests sent at once cannot all slip through before the first failure lands.
    public func begin(_ address: String) -> Duration? {
        let now = now()
        return failures.withLock { failures in
            var recent = (failures[address] ?? []).filter { now - $0 < window }
            if recent.count >= limit, let oldest = recent.first {
                failures[address] = recent
                return window - (now - oldest)
            }
            recent.append(now)
            failures[address] = recent
            return nil
        }
    }

    /// Takes back the attempt ``begin(_:)`` counted, as it succeeded.
    public func forgive(_ address: String) {
        failures.withLock { failures in
            guard var recent = failures[address], !recent.isEmpty else { return }
            recent.removeLast()
            failures[address] = recent.isEmpty ? nil : recent
        }
    }

    /// Counts a failed attempt from `address`.
    public func recordFailure(_ address: String) {
        let now = now()
        failures.withLock { failures in
            var recent = (failures[address] ?? []).filter { now - $0 < window }
            recent.append(now)
            // Only the newest `limit` matter; an address hammering the door holds no more than that.
            failures[address] = Array(recent.suffix(limit))
        }
    }
}
