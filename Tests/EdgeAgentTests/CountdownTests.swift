import Synchronization
import TestSupport
import Testing

@testable import EdgeAgent

/// The restartable deadline behind the keys gathered in a conversation and the end of a keypad
/// message, on a clock the test moves.
@Suite("Countdown", .timeLimit(.minutes(1)))
struct CountdownTests {
    /// When the countdown fired, on the manual clock.
    final class Fired: Sendable {
        let clock: ManualClock
        private let times = Mutex<[Duration]>([])
        let stream: AsyncStream<Duration>
        private let continuation: AsyncStream<Duration>.Continuation

        init(clock: ManualClock) {
            self.clock = clock
            (stream, continuation) = AsyncStream.makeStream()
        }

        var all: [Duration] { times.withLock { $0 } }

        var action: @Sendable () async -> Void {
            {
                let now = self.clock.now.offset
                self.times.withLock { $0.append(now) }
                self.continuation.yield(now)
            }
        }
    }

    @Test("it fires once when its time is over; a new start counts from then instead")
    func firesOnceAfterTheLastStart() async {
        let clock = ManualClock()
        let fired = Fired(clock: clock)
        var countdown = Countdown(clock: clock)
        countdown.start(.seconds(3), fired.action)
        await clock.waitForSleeper()
        clock.advance(by: .seconds(2))
        countdown.start(.seconds(3), fired.action)
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(2999))
        #expect(fired.all.isEmpty)
        clock.advance(by: .milliseconds(1))
        var iterator = fired.stream.makeAsyncIterator()
        #expect(await iterator.next() == .milliseconds(5000))
        await countdown.settled()
        clock.advance(by: .seconds(60))
        #expect(fired.all == [.milliseconds(5000)])
        #expect(clock.sleepers == 0)
    }

    @Test("cancelled, it never fires")
    func cancelled() async {
        let clock = ManualClock()
        let fired = Fired(clock: clock)
        var countdown = Countdown(clock: clock)
        countdown.start(.seconds(1), fired.action)
        await clock.waitForSleeper()
        countdown.cancel()
        await countdown.settled()
        clock.advance(by: .seconds(60))
        #expect(fired.all.isEmpty)
        #expect(clock.sleepers == 0)
    }
}
