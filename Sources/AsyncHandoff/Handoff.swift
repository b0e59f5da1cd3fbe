import Synchronization

/// Carries a value from the task that has it to every task that waits for it: a server's port from
/// its start callback, "the pool runs" from the task that started it. Waiting after the value was
/// sent returns it at once; a later `send` replaces it for later waiters.
///
/// Waiting does not end on cancellation: use it for events that are sure to come.
public final class Handoff<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiters: [CheckedContinuation<Value, Never>])>((nil, []))

    /// A handoff nothing has been sent through yet.
    public init() {}

    /// Hands `value` to every waiting task and to every later one.
    public func send(_ value: Value) {
        let waiters = state.withLock { state in
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// Whether a value has been sent.
    public var isSent: Bool { state.withLock { $0.value != nil } }

    /// The value, once it has been sent.
    public func receive() async -> Value {
        await withCheckedContinuation { continuation in
            let value = state.withLock { state -> Value? in
                if state.value == nil { state.waiters.append(continuation) }
                return state.value
            }
            if let value { continuation.resume(returning: value) }
        }
    }
}

/// A one-shot event: tasks wait at the gate until it opens, and pass at once after.
public typealias Gate = Handoff<Void>

extension Handoff where Value == Void {
    /// Opens the gate for every waiting task and every later one.
    public func open() { send(()) }

    /// Whether the gate has opened.
    public var isOpen: Bool { isSent }

    /// Returns once the gate is open.
    public func wait() async { await receive() }
}
