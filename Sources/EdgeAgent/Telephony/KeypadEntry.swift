/// The keys a caller presses during the conversation (not on the keypad flow): they gather until `#`
/// or a pause of ``pause``, then go to the agent as one input ("4", "2", "#" is "42").
///
/// It keeps time on any clock, so tests move time by hand; the call is told when a pause ends the
/// digits and takes them then.
struct KeypadEntry<EntryClock: Clock<Duration>>: Sendable {
    /// How long after the last key the digits are taken as complete.
    let pause: Duration
    /// The digits pressed since the last input was taken.
    private(set) var digits = ""
    private var countdown: Countdown<EntryClock>

    init(clock: EntryClock, pause: Duration = .seconds(2)) {
        self.pause = pause
        countdown = Countdown(clock: clock)
    }

    /// A key. `#` ends the input at once: the digits are returned (nil when there are none). Any other
    /// key is added, and `paused` runs if no key follows within ``pause`` (the call then calls ``take()``).
    mutating func press(_ key: String, paused: @escaping @Sendable () async -> Void) -> String? {
        countdown.cancel()
        if key == "#" { return take() }
        digits += key
        countdown.start(pause, paused)
        return nil
    }

    /// The digits gathered, now cleared; nil when there are none.
    mutating func take() -> String? {
        guard !digits.isEmpty else { return nil }
        defer { digits = "" }
        return digits
    }

    /// Stops waiting for the pause (the call ended).
    func cancel() {
        countdown.cancel()
    }

    /// Returns when the pause being waited for has run out or was cancelled.
    func settled() async {
        await countdown.settled()
    }
}
