/// A deadline set again and again: `fire` runs once it passes with no new start. It keeps time on
/// any clock, so tests move time by hand. The keys gathered during a conversation end on one, and
/// so does a message left on the keypad flow.
struct Countdown<CountdownClock: Clock<Duration>>: Sendable {
    let clock: CountdownClock
    private var task: Task<Void, Never>?

    init(clock: CountdownClock) {
        self.clock = clock
    }

    /// Starts counting `duration` down instead of whatever was counted; `fire` runs when it is over
    /// (in the countdown's task, which ``cancel()`` and the next start cancel).
    mutating func start(_ duration: Duration, _ fire: @escaping @Sendable () async -> Void) {
        task?.cancel()
        let clock = self.clock
        task = Task {
            guard (try? await clock.sleep(for: duration)) != nil, !Task.isCancelled else { return }
            await fire()
        }
    }

    /// Stops counting.
    func cancel() {
        task?.cancel()
    }

    /// Returns when the count under way is over or was cancelled.
    func settled() async {
        await task?.value
    }
}
