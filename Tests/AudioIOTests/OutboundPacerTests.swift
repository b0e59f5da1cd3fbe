import Synchronization
import TestSupport
import Testing

@testable import AudioIO

/// Records what the pacer sent, when (on the manual clock) and how late, and lets the test wait for it.
final class SentLog: Sendable {
    let entries = Mutex<[(item: OutboundPacer<ManualClock>.Item, at: Duration, lateness: Duration)]>([])
    let waiters = Mutex<[(count: Int, continuation: CheckedContinuation<Void, Never>)]>([])

    func record(_ item: OutboundPacer<ManualClock>.Item, at: Duration, lateness: Duration) {
        let count = entries.withLock {
            $0.append((item, at, lateness))
            return $0.count
        }
        let ready = waiters.withLock { waiters in
            let ready = waiters.filter { $0.count <= count }
            waiters.removeAll { $0.count <= count }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    func wait(forCount count: Int) async {
        await withCheckedContinuation { continuation in
            let done = entries.withLock { $0.count >= count }
            if done { continuation.resume() } else { waiters.withLock { $0.append((count, continuation)) } }
        }
    }
}

@Suite("Outbound pacing")
struct OutboundPacerTests {
    static func frames(_ count: Int) -> [MuLawFrame] {
        (0..<count).map { MuLawFrame(bytes: [UInt8](repeating: UInt8($0), count: 160))! }
    }

    /// Runs `body` against a running pacer on a manual clock that logs what it sends, then finishes the pacer.
    static func withPacer(_ body: (ManualClock, SentLog, OutboundPacer<ManualClock>) async -> Void) async {
        let clock = ManualClock()
        let log = SentLog()
        let pacer = OutboundPacer(clock: clock) { item, lateness in
            log.record(item, at: clock.now.offset, lateness: lateness)
        }
        let running = Task { await pacer.run() }
        await body(clock, log, pacer)
        await pacer.finish()
        await running.value
    }

    @Test("frames leave one per 20 ms, never in a burst, marks right after their audio")
    func paced() async throws {
        await Self.withPacer { clock, log, pacer in
            await pacer.enqueue(Self.frames(5))
            await pacer.enqueueMark("piece-1")
            await log.wait(forCount: 1)  // the first frame goes out at once
            for expected in 2...5 {
                await clock.waitForSleeper()
                // Not a moment early: half a frame later nothing more has left.
                clock.advance(by: .milliseconds(10))
                #expect(log.entries.withLock { $0.count } == expected - 1)
                clock.advance(by: .milliseconds(10))
                await log.wait(forCount: expected)
            }
            await log.wait(forCount: 6)
            let entries = log.entries.withLock { $0 }
            #expect(entries.map(\.at) == [0, 20, 40, 60, 80, 80].map { Duration.milliseconds($0) })
            #expect(entries.last?.item == .mark("piece-1"))
        }
    }

    @Test("clear drops what is queued and returns the marks that will never be reached")
    func clear() async throws {
        await Self.withPacer { clock, log, pacer in
            await pacer.enqueue(Self.frames(3))
            await pacer.enqueueMark("a")
            await pacer.enqueue(Self.frames(3))
            await pacer.enqueueMark("b")
            await log.wait(forCount: 1)
            await clock.waitForSleeper()
            // The first frame left and no mark came back: the far end may be playing it.
            #expect(await pacer.clear() == .init(droppedMarks: ["a", "b"], farEndHoldsAudio: true))
            #expect(await pacer.queuedFrames == 0)
            clock.advance(by: .milliseconds(100))
            // The next answer starts at once, on a new anchor.
            await pacer.enqueue(Self.frames(1))
            await log.wait(forCount: 2)
            #expect(log.entries.withLock { $0.map(\.at) } == [.zero, .milliseconds(100)])
        }
    }

    @Test("the far end holds audio from a frame's sending until a mark after it comes back")
    func farEndHoldsAudio() async throws {
        await Self.withPacer { clock, log, pacer in
            #expect(await !pacer.farEndHoldsAudio)
            // Three pieces queued at once: two frames and mark a, a frame and mark b, a frame and mark c.
            await pacer.enqueue(Self.frames(2))
            await pacer.enqueueMark("a")
            await pacer.enqueue(Self.frames(1))
            await pacer.enqueueMark("b")
            await pacer.enqueue(Self.frames(1))
            await pacer.enqueueMark("c")
            await log.wait(forCount: 1)
            #expect(await pacer.farEndHoldsAudio)
            await clock.waitForSleeper()
            clock.advance(by: .milliseconds(20))
            await log.wait(forCount: 3)  // the second frame, then mark a
            #expect(await pacer.farEndHoldsAudio)  // sent, not yet played
            await pacer.played("unknown")
            #expect(await pacer.farEndHoldsAudio)
            await pacer.played("a")
            #expect(await !pacer.farEndHoldsAudio)  // the next frame waits for its deadline
            await clock.waitForSleeper()
            clock.advance(by: .milliseconds(20))
            await log.wait(forCount: 5)  // frame, mark b
            #expect(await pacer.farEndHoldsAudio)
            // A frame of the next piece leaves before the far end gives back the mark of the one before.
            await clock.waitForSleeper()
            clock.advance(by: .milliseconds(20))
            await log.wait(forCount: 7)  // frame, mark c
            await pacer.played("b")
            #expect(await pacer.farEndHoldsAudio)  // the frame before c
            await pacer.played("c")
            #expect(await !pacer.farEndHoldsAudio)
            // After the far end's word, a clear has nothing there to clear.
            #expect(await pacer.clear() == .init(droppedMarks: [], farEndHoldsAudio: false))
            // A clear with mark d unanswered; the mark Twilio gives back for it afterwards settles
            // nothing of the frame sent after the clear.
            await pacer.enqueue(Self.frames(1))
            await pacer.enqueueMark("d")
            await log.wait(forCount: 9)  // at once: the clear re-anchored the pacer
            #expect(await pacer.clear().farEndHoldsAudio)
            await pacer.enqueue(Self.frames(1))
            await log.wait(forCount: 10)
            await pacer.played("d")
            #expect(await pacer.farEndHoldsAudio)
            // Nor has a clear after a clear anything to clear.
            #expect(await pacer.clear().farEndHoldsAudio)
            #expect(await !pacer.clear().farEndHoldsAudio)
        }
    }

    @Test("a late frame is reported with its lateness and does not shift the next deadlines")
    func lateness() async throws {
        await Self.withPacer { clock, log, pacer in
            await pacer.enqueue(Self.frames(3))
            await log.wait(forCount: 1)
            await clock.waitForSleeper()
            clock.advance(by: .milliseconds(27))  // woken 7 ms after the second frame's deadline
            await log.wait(forCount: 2)
            await clock.waitForSleeper()
            clock.advance(by: .milliseconds(13))  // the third frame's deadline is still 40 ms
            await log.wait(forCount: 3)
            #expect(log.entries.withLock { $0.map(\.at) } == [.zero, .milliseconds(27), .milliseconds(40)])
            #expect(log.entries.withLock { $0.map(\.lateness) } == [.zero, .milliseconds(7), .zero])
        }
    }
}
