/// Sends outbound audio in real time: one 20 ms frame per 20 ms of a monotonic clock, never in a
/// burst, each against its own deadline (anchor + n × 20 ms) so small delays never accumulate.
///
/// Marks are sent right after the frame before them. ``clear()`` drops everything queued (barge-in)
/// and returns the marks that will now never be reached. The pacer re-anchors when it runs dry, so
/// the first frame of the next answer goes out at once.
public actor OutboundPacer<C: Clock> where C.Duration == Duration {
    /// What the pacer sends.
    public enum Item: Sendable, Equatable {
        case frame(MuLawFrame)
        case mark(String)
    }

    /// Called for every item, in order; `lateness` is how long after its deadline a frame left.
    public typealias Send = @Sendable (Item, _ lateness: Duration) async -> Void

    private let clock: C
    private let frameDuration: Duration
    private let send: Send
    private var queue: [Item] = []
    private var head = 0
    private var anchor: C.Instant?
    private var sentSinceAnchor: Int64 = 0
    private var waiting: CheckedContinuation<Void, Never>?
    private var finished = false

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

    /// Drops every queued item; returns the names of the marks dropped with them.
    @discardableResult
    public func clear() -> [String] {
        let dropped = queue[head...].compactMap { item -> String? in
            if case .mark(let name) = item { name } else { nil }
        }
        queue.removeAll(keepingCapacity: true)
        head = 0
        anchor = nil
        return dropped
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
            if case .mark = item {
                head += 1
                compact()
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
