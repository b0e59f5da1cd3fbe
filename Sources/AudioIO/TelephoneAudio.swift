/// Facts of telephone audio as Twilio Media Streams carries it: mu-law, 8 kHz, mono, 20 ms frames.
public enum TelephoneAudio {
    /// Samples per second.
    public static let sampleRate = 8000
    /// Duration of one frame in milliseconds.
    public static let frameMilliseconds = 20
    /// Samples (and mu-law bytes) in one 20 ms frame.
    public static let samplesPerFrame = sampleRate * frameMilliseconds / 1000
}

/// One 20 ms frame of mu-law audio: exactly ``TelephoneAudio/samplesPerFrame`` bytes.
public struct MuLawFrame: Sendable, Hashable {
    /// The codewords, always 160 of them.
    public let bytes: [UInt8]

    /// Wraps exactly one frame's worth of codewords; returns nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == TelephoneAudio.samplesPerFrame else { return nil }
        self.bytes = bytes
    }

    /// A frame of silence.
    public static let silence = MuLawFrame(unchecked: [UInt8](repeating: MuLaw.silence, count: 160))

    private init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Cuts a mu-law buffer into frames, padding the last one with silence.
    public static func frames(from audio: [UInt8]) -> [MuLawFrame] {
        let size = TelephoneAudio.samplesPerFrame
        return stride(from: 0, to: audio.count, by: size).map { start in
            var chunk = Array(audio[start..<min(start + size, audio.count)])
            if chunk.count < size {
                chunk.append(contentsOf: repeatElement(MuLaw.silence, count: size - chunk.count))
            }
            return MuLawFrame(unchecked: chunk)
        }
    }
}
