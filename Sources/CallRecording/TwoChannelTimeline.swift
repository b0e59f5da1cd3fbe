/// Lines up the two sides of a call on one clock of 8 kHz samples: the caller's frames at their
/// Media Streams timestamps, the agent's at the moment they were sent. Samples nobody spoke are
/// silence; what is placed twice at the same spot is mixed. Emits interleaved stereo (caller left,
/// agent right) up to a point in time, so late frames within the lag still land in place.
struct TwoChannelTimeline {
    /// The sample index of the first sample not yet emitted.
    private(set) var emitted = 0
    private var caller: [Int16] = []
    private var agent: [Int16] = []
    /// The furthest sample written on either side.
    private(set) var end = 0

    enum Channel {
        case caller
        case agent
    }

    /// Places `samples` at sample index `start` (samples before what was already emitted are dropped).
    mutating func put(_ samples: [Int16], channel: Channel, at start: Int) {
        guard !samples.isEmpty else { return }
        let skip = max(0, emitted - start)
        guard skip < samples.count else { return }
        let offset = start + skip - emitted
        let needed = offset + samples.count - skip
        switch channel {
        case .caller: Self.place(samples[skip...], at: offset, in: &caller, length: needed)
        case .agent: Self.place(samples[skip...], at: offset, in: &agent, length: needed)
        }
        end = max(end, start + samples.count)
    }

    private static func place(_ samples: ArraySlice<Int16>, at offset: Int, in buffer: inout [Int16], length: Int) {
        if buffer.count < length { buffer += [Int16](repeating: 0, count: length - buffer.count) }
        for (index, sample) in samples.enumerated() {
            let mixed = Int32(buffer[offset + index]) + Int32(sample)
            buffer[offset + index] = Int16(clamping: mixed)
        }
    }

    /// Interleaved stereo from the last emitted sample up to `sampleIndex`.
    mutating func take(upTo sampleIndex: Int) -> [Int16] {
        let count = sampleIndex - emitted
        guard count > 0 else { return [] }
        var stereo = [Int16](repeating: 0, count: count * 2)
        for index in 0..<count {
            if index < caller.count { stereo[2 * index] = caller[index] }
            if index < agent.count { stereo[2 * index + 1] = agent[index] }
        }
        caller.removeFirst(min(count, caller.count))
        agent.removeFirst(min(count, agent.count))
        emitted = sampleIndex
        return stereo
    }
}
