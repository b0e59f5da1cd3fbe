import Synchronization

/// A clock the test drives: `now` moves only when a short sleep or the test advances it.
///
/// Sleeps shorter than `parkingAtLeast` (backoff, the end of a pause) advance `now` and return at once.
/// Sleeps at least that long stand for timeouts the test does not want to fire: they park until the task is
/// cancelled or the test calls ``fireParked()``.
final class TestClock: Sendable {
    private struct State {
        var now: ContinuousClock.Instant
        var sleeps: [Duration] = []
        var parked: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0
    }

    private let parkingAtLeast: Duration?
    private let state: Mutex<State>

    /// - Parameter parkingAtLeast: Sleeps this long or longer park; nil parks none.
    init(parkingAtLeast: Duration? = nil) {
        self.parkingAtLeast = parkingAtLeast
        self.state = Mutex(State(now: ContinuousClock.now))
    }

    var now: ContinuousClock.Instant { state.withLock { $0.now } }

    /// Every duration asked of ``sleep(for:)``, in order.
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    /// Sleeps currently parked.
    var parkedCount: Int { state.withLock { $0.parked.count } }

    func advance(by duration: Duration) {
        state.withLock { $0.now += duration }
    }

    /// Ends every parked sleep as if its time had come.
    func fireParked() {
        let continuations = state.withLock { state in
            defer { state.parked.removeAll() }
            return Array(state.parked.values)
        }
        for continuation in continuations { continuation.resume() }
    }

    func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock { $0.sleeps.append(duration) }
        guard let parkingAtLeast, duration >= parkingAtLeast else {
            advance(by: max(duration, .zero))
            return
        }
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state in
                    if Task.isCancelled { return true }
                    state.parked[id] = continuation
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            state.withLock { $0.parked.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}
