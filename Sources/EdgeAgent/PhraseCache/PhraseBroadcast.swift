import Synchronization

/// One upstream synthesis shared by every call that asked for the same phrase while it ran (single
/// flight): each listener gets every chunk from the first, even if it joined late, and the same end.
final class PhraseBroadcast: Sendable {
    typealias Listener = AsyncThrowingStream<[UInt8], any Error>.Continuation

    private struct State {
        var chunks: [[UInt8]] = []
        var finished = false
        var failure: (any Error)?
        var listeners: [Int: Listener] = [:]
        var nextListener = 0
    }

    private let state = Mutex(State())

    /// A stream of the phrase's audio from its first chunk.
    func listen() -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        // Replay and registration happen under the lock so no chunk is missed or sent twice; `finish`
        // runs outside it because it calls `onTermination`, which takes the lock.
        let ended: (any Error)?? = state.withLock { state in
            for chunk in state.chunks { continuation.yield(chunk) }
            if state.finished { return .some(state.failure) }
            let id = state.nextListener
            state.nextListener += 1
            state.listeners[id] = continuation
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
            }
            return .none
        }
        if case .some(let failure) = ended { continuation.finish(throwing: failure) }
        return stream
    }

    /// Sends a chunk to every listener.
    func publish(_ chunk: [UInt8]) {
        state.withLock { state in
            state.chunks.append(chunk)
            for listener in state.listeners.values { listener.yield(chunk) }
        }
    }

    /// Ends every listener's stream, with `failure` if the synthesis failed.
    func finish(throwing failure: (any Error)?) {
        let listeners = state.withLock { state in
            state.finished = true
            state.failure = failure
            defer { state.listeners = [:] }
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.finish(throwing: failure) }
    }
}

extension AsyncThrowingStream where Element == [UInt8], Failure == any Error {
    /// A stream of one buffer, already finished: no task, no waiting.
    static func just(_ audio: [UInt8]) -> Self {
        let (stream, continuation) = makeStream()
        continuation.yield(audio)
        continuation.finish()
        return stream
    }
}
