import Synchronization

/// The outcome of `operation`, or `late()` thrown once `limit` has passed, or `CancellationError`
/// when the caller is cancelled, whichever comes first. The operation runs in a task of its own and
/// is cancelled when it loses, but never waited for: this bounds work that may not honour
/// cancellation (a PostgresNIO statement written to a closed channel, see ``HQConnection``), at the
/// price of leaving such work behind.
///
/// - `whenLate` runs once if the deadline wins, after the operation was cancelled (a handler reading
///   a request body stops before anyone else reads it).
/// - `lost`, when given, is checked every 100 ms: once it says the work cannot finish (its
///   connection closed), its error is thrown at once. Nothing is registered per call, so a
///   long-lived connection collects nothing.
/// - `whenSkipped` runs instead of the operation when the outcome was decided before the operation
///   started (the caller was already cancelled): the operation then never runs.
func raceDeadline<Value: Sendable>(
    _ limit: Duration, late: @escaping @Sendable () -> any Error, whenLate: @escaping @Sendable () -> Void = {},
    lost: (isLost: @Sendable () -> Bool, error: @Sendable () -> any Error)? = nil,
    whenSkipped: @escaping @Sendable () -> Void = {},
    operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let outcome = Once<Value>()
    let work = Mutex<Task<Void, Never>?>(nil)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            outcome.set(continuation)
            guard !outcome.isFinished else {
                whenSkipped()
                return
            }
            let task = Task {
                do {
                    outcome.resume(with: .success(try await operation()))
                } catch {
                    outcome.resume(with: .failure(error))
                }
            }
            work.withLock { $0 = task }
            if Task.isCancelled { task.cancel() }
            let timer = Task {
                let started = ContinuousClock.now
                while true {
                    let remaining = limit - started.duration(to: .now)
                    guard remaining > .zero else { break }
                    try await Task.sleep(for: lost == nil ? remaining : min(remaining, .milliseconds(100)))
                    if let lost, lost.isLost() {
                        task.cancel()
                        outcome.resume(with: .failure(lost.error()))
                        return
                    }
                }
                task.cancel()
                if outcome.resume(with: .failure(late())) { whenLate() }
            }
            outcome.onFinish { timer.cancel() }
        }
    } onCancel: {
        outcome.resume(with: .failure(CancellationError()))
        work.withLock { $0 }?.cancel()
    }
}

/// A continuation resumed once, whichever of the statement, the timer and cancellation comes first.
final class Once<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        /// A resume that came before the continuation was set (cancellation before the start).
        var early: Result<Value, any Error>?
        var finished = false
        var onFinish: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    /// Whether the outcome is decided (the continuation was resumed).
    var isFinished: Bool { state.withLock { $0.finished } }

    func set(_ continuation: CheckedContinuation<Value, any Error>) {
        let early: Result<Value, any Error>? = state.withLock { state in
            if let early = state.early {
                state.finished = true
                return early
            }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func onFinish(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state in
            if state.finished { return true }
            state.onFinish = action
            return false
        }
        if now { action() }
    }

    /// Resumes with `result` unless resumed already; whether this call did.
    @discardableResult
    func resume(with result: Result<Value, any Error>) -> Bool {
        let (continuation, action, first): (CheckedContinuation<Value, any Error>?, (@Sendable () -> Void)?, Bool) =
            state.withLock { state in
                guard !state.finished else { return (nil, nil, false) }
                guard let continuation = state.continuation else {
                    guard state.early == nil else { return (nil, nil, false) }
                    state.early = result
                    return (nil, nil, true)
                }
                state.finished = true
                state.continuation = nil
                defer { state.onFinish = nil }
                return (continuation, state.onFinish, true)
            }
        continuation?.resume(with: result)
        action?()
        return first
    }
}
