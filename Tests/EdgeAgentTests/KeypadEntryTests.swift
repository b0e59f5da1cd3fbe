import TestSupport
import Testing

@testable import EdgeAgent

/// Keys pressed during the conversation, on a clock the test moves.
@Suite("Keypad entry", .timeLimit(.minutes(1)))
struct KeypadEntryTests {
    /// Records each time the entry said a pause ended the digits.
    static func pausedAction(_ pauses: ClockRecorder<String>) -> @Sendable () async -> Void {
        { pauses.record("paused") }
    }

    @Test("# ends the digits at once, and no pause follows")
    func hashEnds() async {
        let clock = ManualClock()
        let pauses = ClockRecorder<String>(clock: clock)
        var entry = KeypadEntry(clock: clock)
        #expect(entry.press("4", paused: Self.pausedAction(pauses)) == nil)
        #expect(entry.press("2", paused: Self.pausedAction(pauses)) == nil)
        #expect(entry.press("#", paused: Self.pausedAction(pauses)) == "42")
        #expect(entry.digits == "")
        await entry.settled()
        clock.advance(by: .seconds(10))
        #expect(pauses.all.isEmpty)
        #expect(entry.press("#", paused: Self.pausedAction(pauses)) == nil)
    }

    @Test("two seconds after the last key the digits are complete; each key starts the pause again")
    func pauseEnds() async {
        let clock = ManualClock()
        let pauses = ClockRecorder<String>(clock: clock)
        var entry = KeypadEntry(clock: clock)
        #expect(entry.press("1", paused: Self.pausedAction(pauses)) == nil)
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(1500))
        #expect(entry.press("2", paused: Self.pausedAction(pauses)) == nil)
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(1999))
        #expect(pauses.all.isEmpty)
        #expect(clock.sleepers == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await pauses.next()?.at == .milliseconds(3500))
        #expect(entry.take() == "12")
        #expect(entry.take() == nil)
        #expect(pauses.all.map(\.at) == [.milliseconds(3500)])
    }

    @Test("a call that ends stops the wait: no input after it")
    func cancelled() async {
        let clock = ManualClock()
        let pauses = ClockRecorder<String>(clock: clock)
        var entry = KeypadEntry(clock: clock)
        #expect(entry.press("9", paused: Self.pausedAction(pauses)) == nil)
        await clock.waitForSleeper()
        entry.cancel()
        await entry.settled()
        clock.advance(by: .seconds(10))
        #expect(pauses.all.isEmpty)
        #expect(clock.sleepers == 0)
    }
}
