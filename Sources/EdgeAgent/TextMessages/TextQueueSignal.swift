/// Wakes the text sender when a confirmation may have become due (a booking, a caller's consent),
/// so it goes out at once rather than at the sender's next look.
public final class TextQueueSignal: Sendable {
    public let wakes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func wake() {
        continuation.yield()
    }
}
