import Resilience

/// Streams from a provider behind its ``Upstream``: the circuit breaker, the concurrency limit, the
/// timeout and the retries cover each attempt until its first element arrives; after that the rest
/// of the stream is relayed as it comes. So a provider that never starts answering is abandoned after
/// its timeout (and tried again where that is safe), while a long answer that has started is never cut.
enum GuardedStream {
    static func relay<Element: Sendable>(
        through upstream: Upstream, deadline: ContinuousClock.Instant? = nil,
        classify: @escaping @Sendable (any Error) -> FailureKind,
        _ makeStream: @escaping @Sendable () -> AsyncThrowingStream<Element, any Error>
    ) -> AsyncThrowingStream<Element, any Error> {
        .producing { emit in
            let rest = try await upstream.run(deadline: deadline, classify: classify) {
                try await startRelay(makeStream(), emit: emit)
            }
            try await withTaskCancellationHandler {
                try await rest.value
            } onCancel: {
                rest.cancel()
            }
        }
    }

    /// Starts forwarding `stream` to `emit` and returns once the first element has gone out (or the
    /// stream failed or ended first); the returned task forwards the rest. Cancelling the caller (a
    /// timeout) cancels the forwarding too.
    private static func startRelay<Element: Sendable>(
        _ stream: AsyncThrowingStream<Element, any Error>, emit: @escaping @Sendable (Element) -> Void
    ) async throws -> Task<Void, any Error> {
        let (started, signal) = AsyncThrowingStream<Void, any Error>.makeStream()
        let task = Task {
            var first = true
            do {
                for try await element in stream {
                    // Timed out or abandoned: nothing more goes to the caller.
                    if Task.isCancelled { break }
                    emit(element)
                    if first {
                        first = false
                        signal.finish()
                    }
                }
                if first { signal.finish(throwing: EmptyAnswer()) }
            } catch {
                if first { signal.finish(throwing: error) }
                throw error
            }
        }
        return try await withTaskCancellationHandler {
            for try await _ in started {}
            try Task.checkCancellation()
            return task
        } onCancel: {
            task.cancel()
        }
    }

    /// The provider ended its answer without sending anything.
    struct EmptyAnswer: Error, CustomStringConvertible {
        var description: String { "the provider answered with nothing" }
    }
}
