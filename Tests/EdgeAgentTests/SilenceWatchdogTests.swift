import TestSupport
import Testing

@testable import EdgeAgent

/// The silence watchdog on a clock the test moves: what it asks the call, and when.
@Suite("Silence watchdog", .timeLimit(.minutes(1)))
struct SilenceWatchdogTests {
    /// What the watchdog asked the call, for which turn.
    enum Asked: Equatable, Sendable {
        case hold(String)
        case giveUp(String)
    }

    /// Actions for `turnID` that record what was asked; the hold line is played when `silent` says the
    /// turn has queued nothing.
    static func actions(
        _ turnID: String, silent: Bool = true, into asked: ClockRecorder<Asked>
    ) -> SilenceWatchdog<ManualClock>.Actions {
        .init(
            holdIfSilent: {
                asked.record(.hold(turnID))
                return silent
            },
            giveUpIfWaiting: { asked.record(.giveUp(turnID)) })
    }

    static let timing = SilenceWatchdog<ManualClock>.Timing(budget: .milliseconds(1500))

    /// A watchdog on a fresh manual clock, already watching `turnID`, and the recorder of what it asks.
    static func watching(
        _ turnID: String, sinceEndOfSpeech: Duration = .zero, giveUp: Bool = true, silent: Bool = true
    ) -> (clock: ManualClock, asked: ClockRecorder<Asked>, watchdog: SilenceWatchdog<ManualClock>) {
        let clock = ManualClock()
        let asked = ClockRecorder<Asked>(clock: clock)
        var watchdog = SilenceWatchdog(clock: clock, timing: timing)
        watchdog.watch(
            turnID: turnID, sinceEndOfSpeech: sinceEndOfSpeech, giveUp: giveUp,
            actions(turnID, silent: silent, into: asked))
        return (clock, asked, watchdog)
    }

    @Test("an answer still silent gets the hold line 350 ms before the budget, and is given up 1.5 s after it")
    func holdThenGiveUp() async {
        let (clock, asked, watchdog) = Self.watching("t1")
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(1149))
        #expect(clock.sleepers == 1)
        #expect(asked.all.isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(await asked.next() == .init(event: .hold("t1"), at: .milliseconds(1150)))
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(1849))
        #expect(clock.sleepers == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await asked.next() == .init(event: .giveUp("t1"), at: .milliseconds(3000)))
        await watchdog.settled()
        #expect(
            asked.all == [
                .init(event: .hold("t1"), at: .milliseconds(1150)),
                .init(event: .giveUp("t1"), at: .milliseconds(3000)),
            ])
        #expect(watchdog.turnID == "t1")
    }

    @Test("an answer already under way gets no hold line and is never given up")
    func answerStarted() async {
        let (clock, asked, watchdog) = Self.watching("t1", silent: false)
        await clock.waitForSleeper()
        clock.advance(by: .seconds(10))
        await watchdog.settled()
        #expect(asked.all == [.init(event: .hold("t1"), at: .seconds(10))])
        #expect(clock.sleepers == 0)
    }

    @Test("time already passed since the end of speech counts; a keypad turn gets the hold line and is never given up")
    func elapsedAndNoGiveUp() async {
        let (clock, asked, watchdog) = Self.watching("k1", sinceEndOfSpeech: .milliseconds(1000), giveUp: false)
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(150))
        #expect(await asked.next() == .init(event: .hold("k1"), at: .milliseconds(150)))
        await watchdog.settled()
        clock.advance(by: .seconds(10))
        #expect(asked.all == [.init(event: .hold("k1"), at: .milliseconds(150))])
        #expect(clock.sleepers == 0)
    }

    @Test(
        "a new turn replaces the one watched; cancelling another turn's watch changes nothing; cancelling this one stops it"
    )
    func replaceAndCancel() async {
        var (clock, asked, watchdog) = Self.watching("t1")
        await clock.waitForSleeper()
        watchdog.watch(turnID: "t2", sinceEndOfSpeech: .zero, giveUp: true, Self.actions("t2", into: asked))
        watchdog.cancel(ifWatching: "t1")
        #expect(watchdog.turnID == "t2")
        clock.advance(by: .milliseconds(1150))
        #expect(await asked.next() == .init(event: .hold("t2"), at: .milliseconds(1150)))
        await clock.waitForSleeper()
        watchdog.cancel(ifWatching: "t2")
        await watchdog.settled()
        clock.advance(by: .seconds(10))
        #expect(asked.all == [.init(event: .hold("t2"), at: .milliseconds(1150))])
        #expect(clock.sleepers == 0)
        #expect(watchdog.turnID == "t2")
    }
}
