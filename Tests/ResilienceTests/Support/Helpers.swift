import Synchronization
import Testing

/// Lets other tasks run until `condition` holds; no wall-clock waiting.
func waitUntil(
    _ condition: () -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async {
    for _ in 0..<1_000_000 {
        if condition() { return }
        await Task.yield()
    }
    Issue.record("condition never became true", sourceLocation: sourceLocation)
}

/// A number shared between tasks.
final class SharedCounter: Sendable {
    private let value = Mutex(0)

    var current: Int { value.withLock { $0 } }

    @discardableResult
    func increment() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}

/// A list shared between tasks.
final class SharedList<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])

    var all: [Element] { elements.withLock { $0 } }

    func append(_ element: Element) {
        elements.withLock { $0.append(element) }
    }
}

/// Suspends until the task is cancelled, then throws `CancellationError`: a provider that never answers.
func hangUntilCancelled() async throws -> Never {
    let (stream, continuation) = AsyncStream<Never>.makeStream()
    for await _ in stream {}
    continuation.finish()  // keeps the stream open until here
    throw CancellationError()
}
