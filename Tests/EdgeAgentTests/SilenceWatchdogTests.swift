import Synchronization
import TestSupport
import Testing

@testable import EdgeAgent

/// The silence watchdog on a clock the test moves: what it asks the call, and when.
@Suite("Silence watchdog", .timeLimit(.minutes(1)))
struct SilenceWatchdogTests {
    /// What the watchdog asked, with the time on the manual clock.
    final class Asked: Sendable {
        enum Event: Equatable, Sendable {
            case hold(String, at: Duration)
            case giveUp(String, at: Duration)
        }

        let clock: ManualClock
        private let events = Mutex<[Event]>([])
        let stream: AsyncStream<Event>
        private let continuation: AsyncStream<Event>.Continuation

        init(clock: ManualClock) {
            self.clock = clock
            (stream, continuation) = AsyncStream.makeStream()
        }

        var all: [Event] { events.withLock { $0 } }

        /// Actions for `turnID`: the hold line is played when `silent` says the turn has queued nothing.
        func actions(_ turnID: String, silent: Bool = true) -> SilenceWatchdog<ManualClock>.Actions {
            .init(
                holdIfSilent: {
                    self.record(.hold(turnID, at: self.clock.now.offset))
                    return silent
                },
                giveUpIfWaiting: { self.record(.giveUp(turnID, at: self.clock.now.offset)) })
        }

        private func record(_ event: Event) {
            events.withLock { $0.append(event) }
            continuation.yield(event)
        }

        /// The next thing asked.
        func next() async -> Event? {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
    }

    static let timing = SilenceWatchdog<ManualClock>.Timing(budget: .milliseconds(1500))

    @Test("an answer still silent gets the hold line 350 ms before the budget, and is given up 1.5 s after it")
    func holdThenGiveUp() async {
        let clock = ManualClock()
        let asked = Asked(clock: clock)
        var watchdog = SilenceWatchdog(clock: clock, timing: Self.timing)
        watchdog.watch(turnID: "t1", sinceEndOfSpeech: .zero, giveUp: true, asked.actions("t1"))
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(1149))
        #expect(clock.sleepers == 1)
        #expect(asked.all.isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(await asked.next() == .hold("t1", at: .milliseconds(1150)))
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(1849))
        #expect(clock.sleepers == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await asked.next() == .giveUp("t1", at: .milliseconds(3000)))
        await watchdog.settled()
        #expect(asked.all == [.hold("t1", at: .milliseconds(1150)), .giveUp("t1", at: .milliseconds(3000))])
        #expect(watchdog.turnID == "t1")
    }

    @Test("an answer already under way gets no hold line and is never given up")
    func answerStarted() async {
        let clock = ManualClock()
        let asked = Asked(clock: clock)
        var watchdog = SilenceWatchdog(clock: clock, timing: Self.timing)
        watchdog.watch(turnID: "t1", sinceEndOfSpeech: .zero, giveUp: true, asked.actions("t1", silent: false))
        await clock.waitForSleeper()
        clock.advance(by: .seconds(10))
        await watchdog.settled()
        #expect(asked.all == [.hold("t1", at: .seconds(10))])
        #expect(clock.sleepers == 0)
    }

    @Test("time already passed since the end of speech counts; a keypad turn gets the hold line and is never given up")
    func elapsedAndNoGiveUp() async {
        let clock = ManualClock()
        let asked = Asked(clock: clock)
        var watchdog = SilenceWatchdog(clock: clock, timing: Self.timing)
        watchdog.watch(turnID: "k1", sinceEndOfSpeech: .milliseconds(1000), giveUp: false, asked.actions("k1"))
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(150))
        #expect(await asked.next() == .hold("k1", at: .milliseconds(150)))
        await watchdog.settled()
        clock.advance(by: .seconds(10))
        #expect(asked.all == [.hold("k1", at: .milliseconds(150))])
        #expect(clock.sleepers == 0)
    }

    @Test(
        "a new turn replaces the one watched; cancelling another turn's watch changes nothing; cancelling this one stops it"
    )
    func replaceAndCancel() async {
        let clock = ManualClock()
        let asked = Asked(clock: clock)
        var watchdog = SilenceWatchdog(clock: clock, timing: Self.timing)
        watchdog.watch(turnID: "t1", sinceEndOfSpeech: .zero, giveUp: true, asked.actions("t1"))
        await clock.waitForSleeper()
        watchdog.watch(turnID: "t2", sinceEndOfSpeech: .zero, giveUp: true, asked.actions("t2"))
        watchdog.cancel(ifWatching: "t1")
        #expect(watchdog.turnID == "t2")
        clock.advance(by: .milliseconds(1150))
        #expect(await asked.next() == .hold("t2", at: .milliseconds(1150)))
        await clock.waitForSleeper()
        watchdog.cancel(ifWatching: "t2")
        await watchdog.settled()
        clock.advance(by: .seconds(10))
        #expect(asked.all == [.hold("t2", at: .milliseconds(1150))])
        #expect(clock.sleepers == 0)
        #expect(watchdog.turnID == "t2")
    }
}
