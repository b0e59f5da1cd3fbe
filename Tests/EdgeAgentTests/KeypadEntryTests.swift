import Synchronization
import TestSupport
import Testing

@testable import EdgeAgent

/// Keys pressed during the conversation, on a clock the test moves.
@Suite("Keypad entry", .timeLimit(.minutes(1)))
struct KeypadEntryTests {
    /// When the entry said a pause ended the digits, on the manual clock.
    final class Pauses: Sendable {
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

        func next() async -> Duration? {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
    }

    @Test("# ends the digits at once, and no pause follows")
    func hashEnds() async {
        let clock = ManualClock()
        let pauses = Pauses(clock: clock)
        var entry = KeypadEntry(clock: clock)
        #expect(entry.press("4", paused: pauses.action) == nil)
        #expect(entry.press("2", paused: pauses.action) == nil)
        #expect(entry.press("#", paused: pauses.action) == "42")
        #expect(entry.digits == "")
        await entry.settled()
        clock.advance(by: .seconds(10))
        #expect(pauses.all.isEmpty)
        #expect(entry.press("#", paused: pauses.action) == nil)
    }

    @Test("two seconds after the last key the digits are complete; each key starts the pause again")
    func pauseEnds() async {
        let clock = ManualClock()
        let pauses = Pauses(clock: clock)
        var entry = KeypadEntry(clock: clock)
        #expect(entry.press("1", paused: pauses.action) == nil)
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(1500))
        #expect(entry.press("2", paused: pauses.action) == nil)
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(1999))
        #expect(pauses.all.isEmpty)
        #expect(clock.sleepers == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await pauses.next() == .milliseconds(3500))
        #expect(entry.take() == "12")
        #expect(entry.take() == nil)
        #expect(pauses.all == [.milliseconds(3500)])
    }

    @Test("a call that ends stops the wait: no input after it")
    func cancelled() async {
        let clock = ManualClock()
        let pauses = Pauses(clock: clock)
        var entry = KeypadEntry(clock: clock)
        #expect(entry.press("9", paused: pauses.action) == nil)
        await clock.waitForSleeper()
        entry.cancel()
        await entry.settled()
        clock.advance(by: .seconds(10))
        #expect(pauses.all.isEmpty)
        #expect(clock.sleepers == 0)
    }
}
