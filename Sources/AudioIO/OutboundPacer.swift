/// Sends outbound audio in real time: one 20 ms frame per 20 ms of a monotonic clock, never in a
/// burst, each against its own deadline (anchor + n × 20 ms) so small delays never accumulate.
///
/// Marks are sent right after the frame before them, and the far end gives each back once its audio
/// has played (``played(_:)``): the pacer knows from that alone whether the far end still holds audio
/// to play. ``clear()`` drops everything queued (barge-in) and says whether the far end must be told
/// to clear as well. The pacer re-anchors when it runs dry, so the first frame of the next answer goes
/// out at once.
public actor OutboundPacer<C: Clock> where C.Duration == Duration {
    /// What the pacer sends.
    public enum Item: Sendable, Equatable {
        case frame(MuLawFrame)
        case mark(String)
    }

    /// Called for every item, in order; `lateness` is how long after its deadline a frame left.
    public typealias Send = @Sendable (Item, _ lateness: Duration) async -> Void

    /// What ``clear()`` dropped, and whether the far end still had audio to play.
    public struct Cleared: Sendable, Equatable {
        /// The marks queued behind the dropped audio: they will never be reached.
        public var droppedMarks: [String]
        /// Frames were sent after the last one the far end confirmed played (by giving back a mark
        /// after it): it may still be playing them, so it must be told to clear too. Decided from
        /// the far end's own word, not a guess from the clock: audio whose mark came back was heard.
        public var farEndHoldsAudio: Bool

        public init(droppedMarks: [String], farEndHoldsAudio: Bool) {
            self.droppedMarks = droppedMarks
            self.farEndHoldsAudio = farEndHoldsAudio
        }
    }

    private let clock: C
    private let frameDuration: Duration
    private let send: Send
    private var queue: [Item] = []
    private var head = 0
    private var anchor: C.Instant?
    private var sentSinceAnchor: Int64 = 0
    private var waiting: CheckedContinuation<Void, Never>?
    private var finished = false
    /// Frames sent so far.
    private var framesSent = 0
    /// Frames the far end has confirmed played (or been told to drop).
    private var framesPlayed = 0
    /// Marks sent and not yet given back, oldest first, each with the frames sent before it.
    private var marksInFlight: [(name: String, framesBefore: Int)] = []

    public init(clock: C, frameDuration: Duration = .milliseconds(20), send: @escaping Send) {
        self.clock = clock
        self.frameDuration = frameDuration
        self.send = send
    }

    /// Queues frames after everything already queued.
    public func enqueue(_ frames: [MuLawFrame]) {
        queue.append(contentsOf: frames.map(Item.frame))
        wake()
    }

    /// Queues a mark after everything already queued.
    public func enqueueMark(_ name: String) {
        queue.append(.mark(name))
        wake()
    }

    /// How many frames wait to be sent.
    public var queuedFrames: Int {
        queue[head...].reduce(0) { count, item in if case .frame = item { count + 1 } else { count } }
    }

    /// The far end gave back mark `name`: every frame sent before it has played, and every mark sent
    /// before it is settled too. A mark given back late (after a later one, or after a clear) or
    /// never sent changes nothing.
    public func played(_ name: String) {
        guard let index = marksInFlight.firstIndex(where: { $0.name == name }) else { return }
        framesPlayed = max(framesPlayed, marksInFlight[index].framesBefore)
        marksInFlight.removeFirst(index + 1)
    }

    /// Whether frames were sent after the last one the far end confirmed played.
    public var farEndHoldsAudio: Bool { framesSent > framesPlayed }

    /// Drops every queued item, in one step with the decision whether the far end must clear too: a
    /// frame cannot leave between the two. The caller sends the far end its clear when
    /// ``Cleared/farEndHoldsAudio``; from here on, what was sent counts as played or dropped.
    @discardableResult
    public func clear() -> Cleared {
        let dropped = queue[head...].compactMap { item -> String? in
            if case .mark(let name) = item { name } else { nil }
        }
        let cleared = Cleared(droppedMarks: dropped, farEndHoldsAudio: farEndHoldsAudio)
        queue.removeAll(keepingCapacity: true)
        head = 0
        anchor = nil
        framesPlayed = framesSent
        marksInFlight.removeAll()
        return cleared
    }

    /// Stops ``run()`` once the queue is empty.
    public func finish() {
        finished = true
        wake()
    }

    /// Sends until ``finish()`` has been called and the queue is empty, or the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            guard head < queue.count else {
                if finished { return }
                anchor = nil
                await withCheckedContinuation { waiting = $0 }
                continue
            }
            let item = queue[head]
            if case .mark(let name) = item {
                head += 1
                compact()
                marksInFlight.append((name, framesSent))
                await send(item, .zero)
                continue
            }
            let start = anchor ?? clock.now
            if anchor == nil {
                anchor = start
                sentSinceAnchor = 0
            }
            let deadline = start.advanced(by: frameDuration * sentSinceAnchor)
            if clock.now < deadline {
                do {
                    try await clock.sleep(until: deadline, tolerance: nil)
                } catch {
                    return
                }
                // A clear() during the sleep dropped this frame: start over with what is queued now.
                guard anchor == start, head < queue.count, queue[head] == item else { continue }
            }
            head += 1
            sentSinceAnchor += 1
            framesSent += 1
            compact()
            await send(item, deadline.duration(to: clock.now))
        }
    }

    private func wake() {
        waiting?.resume()
        waiting = nil
    }

    private func compact() {
        if head > 512 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}
