import TestSupport
import Testing

@testable import EdgeAgent

/// The restartable deadline behind the keys gathered in a conversation and the end of a keypad
/// message, on a clock the test moves.
@Suite("Countdown", .timeLimit(.minutes(1)))
struct CountdownTests {
    @Test("it fires once when its time is over; a new start counts from then instead")
    func firesOnceAfterTheLastStart() async {
        let clock = ManualClock()
        let fired = ClockRecorder<String>(clock: clock)
        var countdown = Countdown(clock: clock)
        countdown.start(.seconds(3), { fired.record("fired") })
        await clock.waitForSleeper()
        clock.advance(by: .seconds(2))
        countdown.start(.seconds(3), { fired.record("fired") })
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(2999))
        #expect(fired.all.isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(await fired.next()?.at == .milliseconds(5000))
        await countdown.settled()
        clock.advance(by: .seconds(60))
        #expect(fired.all.map(\.at) == [.milliseconds(5000)])
        #expect(clock.sleepers == 0)
    }

    @Test("cancelled, it never fires")
    func cancelled() async {
        let clock = ManualClock()
        let fired = ClockRecorder<String>(clock: clock)
        var countdown = Countdown(clock: clock)
        countdown.start(.seconds(1), { fired.record("fired") })
        await clock.waitForSleeper()
        countdown.cancel()
        await countdown.settled()
        clock.advance(by: .seconds(60))
        #expect(fired.all.isEmpty)
        #expect(clock.sleepers == 0)
    }
}
