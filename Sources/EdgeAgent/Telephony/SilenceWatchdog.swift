/// Keeps a caller from waiting in silence. Once they stop speaking (or press a key), they hear
/// something within the silence budget: if the answer has not started by then, a hold line plays;
/// with `giveUp`, a turn that has still said nothing a little later is abandoned (the call moves to
/// the keypad flow).
///
/// The watchdog only keeps time; the call decides, when asked at each moment, whether the hold line
/// is needed and whether the turn is still waiting. It runs on any clock, so tests move time by hand.
struct SilenceWatchdog<WatchClock: Clock<Duration>>: Sendable {
    /// When the watchdog acts, from the end of the caller's words.
    struct Timing: Sendable {
        /// The longest a caller waits in silence (`call.silence_budget_seconds`).
        var budget: Duration
        /// How long before the end of the budget the hold line is started (time to fetch it from the
        /// cache or the local voice and send its first frame).
        var holdLead = Duration.milliseconds(350)
        /// How long after the budget a turn that has still said nothing is given up.
        var giveUpAfterBudget = Duration.milliseconds(1500)

        /// From the end of the caller's words to the start of the hold line.
        var holdDelay: Duration { max(.zero, budget - holdLead) }
        /// From the end of the caller's words to giving up.
        var giveUpDelay: Duration { budget + giveUpAfterBudget }
    }

    /// What the call does at each moment, each in one step of its own isolation.
    struct Actions: Sendable {
        /// Plays the hold line if the turn has queued no audio yet; returns whether it did.
        var holdIfSilent: @Sendable () async -> Bool
        /// Abandons the turn if its answer has still not started.
        var giveUpIfWaiting: @Sendable () async -> Void
    }

    let clock: WatchClock
    let timing: Timing
    /// The turn watched last (kept after it is cancelled, so the call knows whose watch ended).
    private(set) var turnID: String?
    private var task: Task<Void, Never>?

    init(clock: WatchClock, timing: Timing) {
        self.clock = clock
        self.timing = timing
    }

    /// Watches `turnID`, whose caller stopped speaking `elapsed` ago, instead of whatever was watched.
    mutating func watch(turnID: String, sinceEndOfSpeech elapsed: Duration, giveUp: Bool, _ actions: Actions) {
        task?.cancel()
        self.turnID = turnID
        let clock = self.clock
        let start = clock.now.advanced(by: .zero - elapsed)
        let holdAt = start.advanced(by: timing.holdDelay)
        let giveUpAt = start.advanced(by: timing.giveUpDelay)
        task = Task {
            guard (try? await clock.sleep(until: holdAt, tolerance: nil)) != nil, !Task.isCancelled,
                await actions.holdIfSilent()
            else { return }
            guard giveUp, (try? await clock.sleep(until: giveUpAt, tolerance: nil)) != nil, !Task.isCancelled else {
                return
            }
            await actions.giveUpIfWaiting()
        }
    }

    /// Returns when the current watch has run its course or was cancelled.
    func settled() async {
        await task?.value
    }

    /// Stops watching.
    func cancel() {
        task?.cancel()
    }

    /// Stops watching if `turnID` is the turn watched.
    func cancel(ifWatching turnID: String) {
        if self.turnID == turnID { task?.cancel() }
    }
}
