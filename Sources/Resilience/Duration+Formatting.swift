extension Duration {
    /// The duration in seconds, fractions included.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// "400 ms" under a second, otherwise whole seconds rounded up ("12 s"), so "next try in" never undershoots.
    var forHumans: String {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return "0 ms" }
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        if seconds == 0 {
            let milliseconds = (attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond
            return "\(milliseconds) ms"
        }
        return "\(attoseconds > 0 ? seconds + 1 : seconds) s"
    }
}
