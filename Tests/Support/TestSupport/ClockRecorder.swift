import Synchronization

/// Records what a timed piece of code did, each event with the time on a ``ManualClock``, and lets a
/// test wait for the next one.
public final class ClockRecorder<Event: Sendable & Equatable>: Sendable {
    /// One thing done, and when.
    public struct Entry: Sendable, Equatable {
        public let event: Event
        public let at: Duration

        public init(event: Event, at: Duration) {
            self.event = event
            self.at = at
        }
    }

    public let clock: ManualClock
    private let entries = Mutex<[Entry]>([])
    private let stream: AsyncStream<Entry>
    private let continuation: AsyncStream<Entry>.Continuation

    public init(clock: ManualClock) {
        self.clock = clock
        (stream, continuation) = AsyncStream.makeStream()
    }

    /// Everything recorded so far, oldest first.
    public var all: [Entry] { entries.withLock { $0 } }

    /// Records `event` at the clock's time now.
    public func record(_ event: Event) {
        let entry = Entry(event: event, at: clock.now.offset)
        entries.withLock { $0.append(entry) }
        continuation.yield(entry)
    }

    /// The next entry recorded (entries are handed out once each, in order); call from one task at a time.
    public func next() async -> Entry? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }
}
