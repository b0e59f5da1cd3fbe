import Synchronization

/// An async semaphore for one provider: at most `maxConcurrent` calls in flight, later callers queued in
/// arrival order.
///
/// Waiting suspends on a continuation; nothing polls. A waiter that is cancelled or whose wait limit runs out
/// leaves the queue and throws, and a permit is only ever handed to a waiter that returns it, so none leaks.
/// ``pause(until:)`` holds back new permits after a provider answered 429 with Retry-After: while paused, the
/// waiter at the head of the queue sleeps until the pause ends (on the injected `sleep`) and then lets the
/// queue move, so no background task is needed.
public final class ConcurrencyLimiter: Sendable {
    /// The provider's name, used in error messages.
    public let name: String
    public let maxConcurrent: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let sleep: @Sendable (Duration) async throws -> Void
    private let state: Mutex<State>

    /// - Parameters:
    ///   - now: The clock reading; tests pass a manual one.
    ///   - sleep: How waiting on time happens (wait limits, the end of a pause); tests pass a controllable one.
    public init(
        name: String,
        maxConcurrent: Int,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        precondition(maxConcurrent >= 1, "ConcurrencyLimiter.maxConcurrent must be at least 1")
        self.name = name
        self.maxConcurrent = maxConcurrent
        self.now = now
        self.sleep = sleep
        self.state = Mutex(State(name: name, maxConcurrent: maxConcurrent))
    }

    /// Permits currently held.
    public var inFlight: Int { state.withLock { maxConcurrent - $0.available } }

    /// Callers queued for a permit.
    public var waiting: Int { state.withLock { $0.queue.count } }

    /// Runs `body` holding a permit, waiting for one first if all are taken.
    ///
    /// - Parameter limit: The longest wait for a permit; nil waits until a permit is free or the task is cancelled.
    /// - Throws: ``ResilienceError/limitReached(provider:waited:maxConcurrent:)`` when the wait runs out,
    ///   ``ResilienceError/rateLimited(provider:retryIn:)`` at once when a pause outlasts the wait limit,
    ///   `CancellationError` when the task is cancelled while waiting, or whatever `body` throws.
    public nonisolated(nonsending) func withPermit<T>(
        waitingAtMost limit: Duration? = nil,
        _ body: nonisolated(nonsending) () async throws -> T
    ) async throws -> T {
        try await acquire(waitingAtMost: limit)
        defer { release() }
        return try await body()
    }

    /// Hands out no new permit before `instant` (calls already holding one go on). A later instant extends the
    /// pause; an earlier one is ignored. Queued waiters whose wait limit ends before `instant` fail at once with
    /// ``ResilienceError/rateLimited(provider:retryIn:)``.
    public func pause(until instant: ContinuousClock.Instant) {
        let now = now()
        state.withLock { $0.pause(until: instant, now: now) }.resumeAll()
    }

    /// Takes a permit, waiting at most `limit`; pair with ``release()``.
    func acquire(waitingAtMost limit: Duration?) async throws {
        let start = now()
        let deadline = limit.map { start + $0 }
        let (entry, resumptions) = state.withLock { $0.enter(now: start, deadline: deadline) }
        resumptions.resumeAll()
        let id: UInt64
        switch entry {
        case .granted: return
        case .failed(let error): throw error
        case .queued(let queued): id = queued
        }
        try await withTaskCancellationHandler {
            if let limit {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do { try await self.sleep(limit) } catch { return }
                        if !Task.isCancelled { self.expire(id, waited: limit) }
                    }
                    defer { group.cancelAll() }
                    try await self.waitForTurn(id)
                }
            } else {
                try await waitForTurn(id)
            }
        } onCancel: {
            settle(id, with: CancellationError())
        }
    }

    /// Returns a permit taken with ``acquire(waitingAtMost:)``.
    func release() {
        let now = now()
        state.withLock { state in
            state.available += 1
            return state.dispatch(now: now)
        }.resumeAll()
    }

    private func waitForTurn(_ id: UInt64) async throws {
        while true {
            switch try await wake(id) {
            case .granted:
                return
            case .keepTime(let until):
                // This waiter heads the queue during a pause: it sleeps until the pause ends, then lets the
                // queue move. If it is cancelled meanwhile, the cancellation handler has already removed it
                // and handed the duty to the next waiter; `wake` then throws.
                let remaining = until - now()
                if remaining > .zero { try? await sleep(remaining) }
                if !Task.isCancelled {
                    let now = now()
                    state.withLock { $0.pauseElapsed(timekeeper: id, target: until, now: now) }.resumeAll()
                }
            }
        }
    }

    private func wake(_ id: UInt64) async throws -> Wake {
        try await withCheckedThrowingContinuation { continuation in
            state.withLock { $0.attach(continuation, to: id) }?.resume()
        }
    }

    private func expire(_ id: UInt64, waited: Duration) {
        settle(id, with: ResilienceError.limitReached(provider: name, waited: waited, maxConcurrent: maxConcurrent))
    }

    private func settle(_ id: UInt64, with error: any Error) {
        let now = now()
        state.withLock { $0.fail(id, with: error, now: now) }.resumeAll()
    }
}

/// What a queued waiter is woken for.
private enum Wake: Sendable {
    /// It holds a permit now.
    case granted
    /// It heads the queue while permits are held back: sleep until `until`, then let the queue move.
    case keepTime(until: ContinuousClock.Instant)
}

/// A continuation to resume once the lock is released.
private struct Resumption: Sendable {
    let continuation: CheckedContinuation<Wake, any Error>
    let result: Result<Wake, any Error>

    func resume() { continuation.resume(with: result) }
}

extension [Resumption] {
    fileprivate func resumeAll() {
        for resumption in self { resumption.resume() }
    }
}

private struct Waiter {
    let id: UInt64
    let deadline: ContinuousClock.Instant?
    /// Set while the waiter is suspended in `wake`.
    var continuation: CheckedContinuation<Wake, any Error>?
    /// A wake-up decided while the waiter was not suspended (it stays queued).
    var pendingWake: Wake?
}

private enum Entry {
    case granted
    case failed(any Error)
    case queued(UInt64)
}

/// The limiter's bookkeeping, only ever touched under its lock. Continuations are never resumed here: the
/// methods return them so the caller resumes them after unlocking.
private struct State {
    let name: String
    let maxConcurrent: Int
    var available: Int
    var queue: [Waiter] = []
    /// Outcomes of waiters removed from the queue before they suspended; picked up by `attach`.
    var settled: [UInt64: Result<Wake, any Error>] = [:]
    var pausedUntil: ContinuousClock.Instant?
    /// The waiter sleeping until the pause ends, if any.
    var timekeeper: UInt64?
    var nextID: UInt64 = 0

    init(name: String, maxConcurrent: Int) {
        self.name = name
        self.maxConcurrent = maxConcurrent
        self.available = maxConcurrent
    }

    mutating func enter(now: ContinuousClock.Instant, deadline: ContinuousClock.Instant?) -> (Entry, [Resumption]) {
        let paused = isPaused(now: now)
        if !paused, queue.isEmpty, available > 0 {
            available -= 1
            return (.granted, [])
        }
        if paused, let pausedUntil, let deadline, deadline < pausedUntil {
            return (.failed(ResilienceError.rateLimited(provider: name, retryIn: pausedUntil - now)), [])
        }
        if let deadline, deadline <= now {
            return (
                .failed(ResilienceError.limitReached(provider: name, waited: .zero, maxConcurrent: maxConcurrent)), []
            )
        }
        let id = nextID
        nextID += 1
        queue.append(Waiter(id: id, deadline: deadline))
        return (.queued(id), dispatch(now: now))
    }

    mutating func attach(_ continuation: CheckedContinuation<Wake, any Error>, to id: UInt64) -> Resumption? {
        if let result = settled.removeValue(forKey: id) {
            return Resumption(continuation: continuation, result: result)
        }
        guard let index = queue.firstIndex(where: { $0.id == id }) else {
            assertionFailure("waiter \(id) is neither queued nor settled")
            return Resumption(continuation: continuation, result: .failure(CancellationError()))
        }
        if let wake = queue[index].pendingWake {
            queue[index].pendingWake = nil
            return Resumption(continuation: continuation, result: .success(wake))
        }
        queue[index].continuation = continuation
        return nil
    }

    /// Hands free permits to the queue in order, or while paused appoints the head to keep time.
    mutating func dispatch(now: ContinuousClock.Instant) -> [Resumption] {
        var resumptions: [Resumption] = []
        if isPaused(now: now) {
            if timekeeper == nil, available > 0, !queue.isEmpty, let pausedUntil {
                timekeeper = queue[0].id
                if let continuation = queue[0].continuation {
                    queue[0].continuation = nil
                    resumptions.append(
                        Resumption(continuation: continuation, result: .success(.keepTime(until: pausedUntil))))
                } else {
                    queue[0].pendingWake = .keepTime(until: pausedUntil)
                }
            }
            return resumptions
        }
        while available > 0, !queue.isEmpty {
            available -= 1
            if let resumption = remove(at: 0, with: .success(.granted)) { resumptions.append(resumption) }
        }
        return resumptions
    }

    mutating func fail(_ id: UInt64, with error: any Error, now: ContinuousClock.Instant) -> [Resumption] {
        guard let index = queue.firstIndex(where: { $0.id == id }) else { return [] }
        var resumptions = remove(at: index, with: .failure(error)).map { [$0] } ?? []
        resumptions += dispatch(now: now)
        return resumptions
    }

    mutating func pause(until instant: ContinuousClock.Instant, now: ContinuousClock.Instant) -> [Resumption] {
        guard instant > now else { return [] }
        if isPaused(now: now), let pausedUntil, pausedUntil >= instant { return [] }
        pausedUntil = instant
        var resumptions: [Resumption] = []
        var index = 0
        while index < queue.count {
            if let deadline = queue[index].deadline, deadline < instant {
                let error = ResilienceError.rateLimited(provider: name, retryIn: instant - now)
                if let resumption = remove(at: index, with: .failure(error)) { resumptions.append(resumption) }
            } else {
                index += 1
            }
        }
        resumptions += dispatch(now: now)
        return resumptions
    }

    /// The timekeeper slept until `target`. The sleep is taken as proof that the pause ending at `target` is
    /// over, so a test clock that does not advance on its own still lets the queue move.
    mutating func pauseElapsed(timekeeper id: UInt64, target: ContinuousClock.Instant, now: ContinuousClock.Instant)
        -> [Resumption]
    {
        guard timekeeper == id else { return [] }
        timekeeper = nil
        if pausedUntil == target { pausedUntil = nil }
        return dispatch(now: now)
    }

    private mutating func isPaused(now: ContinuousClock.Instant) -> Bool {
        guard let until = pausedUntil else { return false }
        if now < until { return true }
        pausedUntil = nil
        timekeeper = nil
        return false
    }

    private mutating func remove(at index: Int, with result: Result<Wake, any Error>) -> Resumption? {
        let waiter = queue.remove(at: index)
        if timekeeper == waiter.id { timekeeper = nil }
        if let continuation = waiter.continuation {
            return Resumption(continuation: continuation, result: result)
        }
        settled[waiter.id] = result
        return nil
    }
}
