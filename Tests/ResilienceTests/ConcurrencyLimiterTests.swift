import AsyncHandoff
import Synchronization
import Testing

@testable import Resilience

@Suite("Concurrency limiter")
struct ConcurrencyLimiterTests {
    /// Counts calls inside the limiter and remembers the most at once.
    final class InFlight: Sendable {
        private let counts = Mutex((current: 0, maximum: 0, total: 0))

        var maximum: Int { counts.withLock { $0.maximum } }
        var total: Int { counts.withLock { $0.total } }

        func enter() {
            counts.withLock { counts in
                counts.current += 1
                counts.total += 1
                counts.maximum = max(counts.maximum, counts.current)
            }
        }

        func leave() {
            counts.withLock { $0.current -= 1 }
        }
    }

    @Test("never more than maxConcurrent in flight among 50 concurrent callers")
    func boundsConcurrency() async throws {
        let limiter = ConcurrencyLimiter(name: "llm", maxConcurrent: 4)
        let inFlight = InFlight()
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await limiter.withPermit {
                        inFlight.enter()
                        await gate.wait()
                        for _ in 0..<3 { await Task.yield() }
                        inFlight.leave()
                    }
                }
            }
            await waitUntil { limiter.inFlight == 4 && limiter.waiting == 46 }
            #expect(inFlight.maximum == 4)
            gate.open()
            try await group.waitForAll()
        }
        #expect(inFlight.maximum == 4)
        #expect(inFlight.total == 50)
        #expect(limiter.inFlight == 0)
        #expect(limiter.waiting == 0)
    }

    @Test("waiters get permits in arrival order")
    func firstInFirstOut() async throws {
        let limiter = ConcurrencyLimiter(name: "llm", maxConcurrent: 1)
        let gate = Gate()
        let order = SharedList<Int>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await limiter.withPermit { await gate.wait() } }
            await waitUntil { limiter.inFlight == 1 }
            for index in 0..<5 {
                group.addTask { try await limiter.withPermit { order.append(index) } }
                await waitUntil { limiter.waiting == index + 1 }
            }
            gate.open()
            try await group.waitForAll()
        }
        #expect(order.all == [0, 1, 2, 3, 4])
    }

    @Test("a waiter whose wait runs out leaves the queue and leaks no permit")
    func timedOutWaiter() async throws {
        let clock = TestClock(parkingAtLeast: .zero)
        let limiter = ConcurrencyLimiter(
            name: "elevenlabs", maxConcurrent: 1, now: { clock.now }, sleep: { try await clock.sleep(for: $0) })
        let gate = Gate()
        let holder = Task { try await limiter.withPermit { await gate.wait() } }
        await waitUntil { limiter.inFlight == 1 }

        let waiter = Task { try await limiter.withPermit(waitingAtMost: .seconds(1)) { "ran" } }
        await waitUntil { limiter.waiting == 1 && clock.parkedCount == 1 }
        clock.fireParked()
        await #expect(
            throws: ResilienceError.limitReached(provider: "elevenlabs", waited: .seconds(1), maxConcurrent: 1)
        ) {
            try await waiter.value
        }
        #expect(limiter.waiting == 0)
        #expect(limiter.inFlight == 1)

        gate.open()
        try await holder.value
        #expect(limiter.inFlight == 0)
        #expect(try await limiter.withPermit(waitingAtMost: .zero) { "ran" } == "ran")
    }

    @Test("a cancelled waiter leaves the queue, leaks no permit, and the next waiter is served")
    func cancelledWaiter() async throws {
        let limiter = ConcurrencyLimiter(name: "llm", maxConcurrent: 1)
        let gate = Gate()
        let holder = Task { try await limiter.withPermit { await gate.wait() } }
        await waitUntil { limiter.inFlight == 1 }

        let cancelled = Task { try await limiter.withPermit { "ran" } }
        await waitUntil { limiter.waiting == 1 }
        let next = Task { try await limiter.withPermit { "next" } }
        await waitUntil { limiter.waiting == 2 }

        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(limiter.waiting == 1)

        gate.open()
        try await holder.value
        #expect(try await next.value == "next")
        #expect(limiter.inFlight == 0)
        #expect(limiter.waiting == 0)
    }

    @Test("no permit is handed out before a pause ends")
    func pauseHonoured() async throws {
        let clock = TestClock(parkingAtLeast: .seconds(5))
        let limiter = ConcurrencyLimiter(
            name: "elevenlabs", maxConcurrent: 2, now: { clock.now }, sleep: { try await clock.sleep(for: $0) })
        let start = clock.now
        limiter.pause(until: start + .seconds(3))
        let ranAt = try await limiter.withPermit(waitingAtMost: .seconds(10)) { clock.now }
        #expect(ranAt == start + .seconds(3))
        #expect(clock.sleeps.contains(.seconds(3)))
        #expect(limiter.inFlight == 0)
        #expect(limiter.waiting == 0)
    }

    @Test("a caller who cannot wait out a pause fails at once")
    func pauseFailsFast() async throws {
        let clock = TestClock(parkingAtLeast: .zero)
        let limiter = ConcurrencyLimiter(
            name: "elevenlabs", maxConcurrent: 2, now: { clock.now }, sleep: { try await clock.sleep(for: $0) })
        limiter.pause(until: clock.now + .seconds(5))
        let ran = SharedCounter()
        await #expect(throws: ResilienceError.rateLimited(provider: "elevenlabs", retryIn: .seconds(5))) {
            try await limiter.withPermit(waitingAtMost: .seconds(1)) { ran.increment() }
        }
        #expect(ran.current == 0)
        #expect(clock.sleeps.isEmpty)
        #expect(limiter.waiting == 0)
    }

    @Test("a pause longer than a queued waiter's wait fails that waiter at once")
    func pauseFailsQueuedWaiter() async throws {
        let clock = TestClock(parkingAtLeast: .zero)
        let limiter = ConcurrencyLimiter(
            name: "llm", maxConcurrent: 1, now: { clock.now }, sleep: { try await clock.sleep(for: $0) })
        let gate = Gate()
        let holder = Task { try await limiter.withPermit { await gate.wait() } }
        await waitUntil { limiter.inFlight == 1 }
        let waiter = Task { try await limiter.withPermit(waitingAtMost: .seconds(2)) { "ran" } }
        await waitUntil { limiter.waiting == 1 }

        limiter.pause(until: clock.now + .seconds(10))
        await #expect(throws: ResilienceError.rateLimited(provider: "llm", retryIn: .seconds(10))) {
            try await waiter.value
        }
        gate.open()
        try await holder.value
        #expect(limiter.inFlight == 0)
        #expect(limiter.waiting == 0)
    }

    @Test("cancelling the waiter that sleeps out a pause hands that duty to the next waiter")
    func pauseSurvivesCancelledTimekeeper() async throws {
        let clock = TestClock(parkingAtLeast: .zero)
        let limiter = ConcurrencyLimiter(
            name: "llm", maxConcurrent: 1, now: { clock.now }, sleep: { try await clock.sleep(for: $0) })
        limiter.pause(until: clock.now + .seconds(3))
        let first = Task { try await limiter.withPermit { "first" } }
        await waitUntil { clock.parkedCount == 1 }
        let second = Task { try await limiter.withPermit { "second" } }
        await waitUntil { limiter.waiting == 2 }

        first.cancel()
        await #expect(throws: CancellationError.self) { try await first.value }
        await waitUntil { clock.parkedCount == 1 && limiter.waiting == 1 }
        #expect(clock.sleeps == [.seconds(3), .seconds(3)])
        clock.fireParked()
        #expect(try await second.value == "second")
        #expect(limiter.inFlight == 0)
    }

    /// An actor that counts its calls through the limiter.
    actor Tally {
        let limiter = ConcurrencyLimiter(name: "llm", maxConcurrent: 2)
        var count = 0

        func record() async throws {
            try await limiter.withPermit { count += 1 }
        }
    }

    @Test("the body runs on the caller's actor, so it may touch the actor's state")
    func bodyKeepsCallerIsolation() async throws {
        let tally = Tally()
        try await tally.record()
        try await tally.record()
        #expect(await tally.count == 2)
    }
}
