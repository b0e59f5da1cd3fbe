/// A recording made elsewhere (Twilio's own recording of a call) stored the way the box stores its
/// own: re-encoded to Ogg Opus and encrypted to the owner as it arrives, in the same
/// ``SealedStreamFormat``, so `recordings decrypt` reads both alike. Runs on a serial queue of its
/// own, so the codec and the file writes stay off the cooperative pool and NIO.
public actor SealedAudioImport {
    /// How the import ended.
    public struct Summary: Sendable, Equatable {
        public var durationMilliseconds: Int
        public var sizeBytes: Int
        /// SHA-256 (hex) of the whole encrypted file.
        public var ciphertextSHA256: String
    }

    private let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The per-recording key, sealed to the owner: stored in the `recordings` row too.
    public nonisolated let sealedKey: [UInt8]
    public nonisolated let path: String
    private let stream: SealedOpusStream
    private let sampleRate: Int
    private let channels: Int
    private var frames = 0

    /// Creates the file and writes its header.
    ///
    /// - Parameter channelNote: who is on which channel, kept in the Ogg header.
    public init(path: String, ownerPublicKey: [UInt8], sampleRate: Int, channels: Int, channelNote: String) throws {
        executor = QueueExecutor(label: "edge-agent.recording-import")
        stream = try SealedOpusStream(
            path: path, ownerPublicKey: ownerPublicKey, sampleRate: sampleRate, channels: min(channels, 2),
            channelNote: channelNote)
        sealedKey = stream.sealedKey
        self.path = path
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Interleaved samples, `channels` per frame (channels past the second are dropped).
    public func append(_ interleaved: [Int16]) throws {
        let usable = interleaved.count - interleaved.count % channels
        frames += usable / channels
        guard channels > 2 else { return try stream.write(Array(interleaved.prefix(usable))) }
        var stereo = [Int16]()
        stereo.reserveCapacity(usable / channels * 2)
        for frame in stride(from: 0, to: usable, by: channels) {
            stereo.append(interleaved[frame])
            stereo.append(interleaved[frame + 1])
        }
        try stream.write(stereo)
    }

    /// Writes the rest and the final tag, and wipes the key.
    public func finish() throws -> Summary {
        let digest = try stream.finish()
        return Summary(
            durationMilliseconds: frames * 1000 / sampleRate, sizeBytes: stream.bytesWritten,
            ciphertextSHA256: digest)
    }

    /// Gives up: the key is wiped and the file is closed (the caller deletes it).
    public func abandon() {
        stream.close()
    }
}
