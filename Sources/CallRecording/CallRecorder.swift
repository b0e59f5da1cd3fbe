import AudioIO

/// Records one call as it happens: both sides lined up in time, encoded to Ogg Opus and encrypted in
/// chunks of about a second (``SealedStreamFormat``). Runs on a serial queue of its own, so the codec
/// and the file writes never run on the cooperative pool's or NIO's threads.
///
/// A write the disk refuses stops this recording (closed as partial, the failure in the summary)
/// while the call goes on.
public actor CallRecorder {
    /// How the recording ended.
    public struct Summary: Sendable, Equatable {
        /// Closed with its final tag.
        public var complete: Bool
        public var durationMilliseconds: Int
        public var sizeBytes: Int
        /// SHA-256 (hex) of the whole encrypted file.
        public var ciphertextSHA256: String
        public var chunks: Int
        /// Why recording stopped early, when it did.
        public var failure: String?
    }

    private let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The per-recording key, sealed to the owner: stored in the `recordings` row too.
    public nonisolated let sealedKey: [UInt8]
    public nonisolated let path: String
    private let stream: SealedOpusStream
    private var timeline = TwoChannelTimeline()
    private let start: ContinuousClock.Instant
    private var failure: String?
    private var summary: Summary?

    /// How far behind the newest audio the timeline is emitted, so frames that arrive a little late
    /// still land in place.
    static let lagSamples = 4000
    /// Creates the file and writes its header. `start` is the moment the call's audio starts (the
    /// caller's timestamps count from it too).
    public init(path: String, ownerPublicKey: [UInt8], start: ContinuousClock.Instant) throws {
        executor = QueueExecutor(label: "edge-agent.recording")
        stream = try SealedOpusStream(
            path: path, ownerPublicKey: ownerPublicKey, sampleRate: 8000, channels: 2,
            channelNote: "left: caller, right: agent")
        sealedKey = stream.sealedKey
        self.path = path
        self.start = start
    }

    /// A caller frame (mu-law) at its Media Streams timestamp.
    public func caller(_ mulaw: [UInt8], timestampMilliseconds: Int) {
        guard summary == nil, failure == nil else { return }
        timeline.put(MuLaw.decode(mulaw), channel: .caller, at: timestampMilliseconds * 8)
        flushIfReady()
    }

    /// An agent frame (mu-law) sent at `instant`.
    public func agent(_ mulaw: [UInt8], at instant: ContinuousClock.Instant) {
        guard summary == nil, failure == nil else { return }
        let elapsed = instant - start
        let sample = Int(elapsed.components.seconds) * 8000 + Int(elapsed.components.attoseconds / 125_000_000_000_000)
        timeline.put(MuLaw.decode(mulaw), channel: .agent, at: max(0, sample))
        flushIfReady()
    }

    private func flushIfReady() {
        let ready = timeline.end - Self.lagSamples
        guard ready - timeline.emitted >= 1600 else { return }
        encode(upTo: ready)
    }

    private func encode(upTo sample: Int) {
        do {
            try stream.write(timeline.take(upTo: sample))
        } catch {
            stop(because: "\(error)")
        }
    }

    private func stop(because reason: String) {
        guard failure == nil else { return }
        failure = reason
        stream.close()
    }

    /// Ends the recording: the rest of the audio, the final tag, the key wiped. Calling it again
    /// returns the same summary.
    public func finish() -> Summary {
        if let summary { return summary }
        var complete = false
        var digest: String
        if failure == nil {
            do {
                try stream.write(timeline.take(upTo: timeline.end))
                digest = try stream.finish()
                complete = true
            } catch {
                failure = "\(error)"
                digest = stream.close()
            }
        } else {
            digest = stream.close()
        }
        let result = Summary(
            complete: complete, durationMilliseconds: timeline.end / 8, sizeBytes: stream.bytesWritten,
            ciphertextSHA256: digest, chunks: stream.chunks, failure: failure)
        summary = result
        return result
    }
}
