extension AsyncThrowingStream where Failure == any Error {
    /// A stream fed by `produce` running in a task of its own: every value it emits is yielded, the
    /// stream finishes when it returns (or with its error), and the task is cancelled when the consumer
    /// stops listening, so an abandoned answer stops its upstream request.
    static func producing(
        _ produce: @escaping @Sendable (_ emit: @escaping @Sendable (Element) -> Void) async throws -> Void
    ) -> Self where Element: Sendable {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await produce { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
