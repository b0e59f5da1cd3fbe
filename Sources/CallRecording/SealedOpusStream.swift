/// Ogg Opus encrypted as it is made: interleaved 16-bit PCM in, chunks of about a second of encoded
/// audio sealed and fsynced by a ``SealedStreamWriter``. The one path from audio to a recording file,
/// shared by live calls (``CallRecorder``) and imported recordings (``SealedAudioImport``). Not
/// thread-safe: its owner's serial executor runs it.
final class SealedOpusStream {
    private let writer: SealedStreamWriter
    private let encoder: OggOpusEncoder
    /// Frames (samples per channel) of audio per encrypted chunk.
    private let chunkFrames: Int
    private var framesSinceChunk = 0

    /// The per-recording key, sealed to the owner.
    var sealedKey: [UInt8] { writer.sealedKey }
    var bytesWritten: Int { writer.bytesWritten }
    var chunks: Int { writer.chunks }

    /// Creates the file and writes its header.
    init(
        path: String, ownerPublicKey: [UInt8], sampleRate: Int, channels: Int, channelNote: String
    ) throws {
        writer = try SealedStreamWriter(path: path, ownerPublicKey: ownerPublicKey)
        encoder = try OggOpusEncoder(
            sampleRate: Int32(sampleRate), channels: channels, bitrate: Int32(16000 * channels),
            channelNote: channelNote)
        chunkFrames = sampleRate
    }

    /// Encodes `interleaved` and seals a chunk once about a second has gathered.
    func write(_ interleaved: [Int16]) throws {
        guard !interleaved.isEmpty else { return }
        try encoder.write(interleaved)
        framesSinceChunk += interleaved.count / encoder.channels
        if framesSinceChunk >= chunkFrames {
            let ogg = encoder.take()
            if !ogg.isEmpty { try writer.append(ogg) }
            framesSinceChunk = 0
        }
    }

    /// Ends the Ogg stream and writes the final tag; returns the SHA-256 of the whole file.
    func finish() throws -> String {
        try writer.finish(encoder.finish())
    }

    /// Closes the file without a final tag (the recording stays partial); returns its SHA-256.
    @discardableResult
    func close() -> String {
        writer.close()
    }
}
