import COpusEnc

/// Ogg Opus through libopusenc (libopus underneath): interleaved 16-bit PCM in, Ogg pages out, kept
/// in memory until taken. Not thread-safe: the recording's actor owns it.
final class OggOpusEncoder {
    /// libopusenc refused something.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Where libopusenc writes its pages (a class, so its address can be handed to C).
    private final class Sink {
        var bytes: [UInt8] = []
    }

    let channels: Int
    private let sink = Sink()
    private let encoder: OpaquePointer
    private var drained = false
    private var wroteAudio = false

    /// - Parameters:
    ///   - sampleRate: of the PCM given to ``write(_:)`` (libopusenc resamples to Opus' 48 kHz).
    ///   - bitrate: bits per second for all channels together (16 kbit/s per side of narrowband voice keeps the sides apart).
    ///   - pageInterval: the longest audio held before a page is written, in 48 kHz samples.
    ///   - channelNote: the `CHANNELS` comment in the Ogg header, saying who is on which channel.
    init(
        sampleRate: Int32 = 8000, channels: Int = 2, bitrate: Int32 = 32000, pageInterval: Int32 = 9600,
        channelNote: String = "left: caller, right: agent"
    ) throws {
        self.channels = channels
        var callbacks = OpusEncCallbacks(
            write: { user, pointer, length in
                guard let user, let pointer else { return 1 }
                let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: pointer, count: Int(length)))
                return 0
            },
            close: { _ in 0 })
        let comments = ope_comments_create()
        defer { ope_comments_destroy(comments) }
        ope_comments_add(comments, "ENCODER", "edge-agent")
        ope_comments_add(comments, "CHANNELS", channelNote)
        var error: Int32 = 0
        guard
            let encoder = ope_encoder_create_callbacks(
                &callbacks, Unmanaged.passUnretained(sink).toOpaque(), comments, sampleRate, Int32(channels),
                0, &error)
        else { throw Failure(description: "libopusenc could not start (\(error))") }
        self.encoder = encoder
        _ = copusenc_set_bitrate(encoder, bitrate)
        _ = copusenc_set_signal_voice(encoder)
        // Complexity 5 of 10: a third less processor time, for telephone speech that sounds the same.
        _ = copusenc_set_complexity(encoder, 5)
        // libopusenc holds up to two seconds before encoding by default; a recording that must lose at
        // most about a second to a crash cannot wait that long.
        _ = copusenc_set_decision_delay(encoder, pageInterval / 2)
        _ = copusenc_set_muxing_delay(encoder, pageInterval)
        // The headers go out at once, so the first chunk already makes a valid (if short) Ogg file.
        _ = ope_encoder_flush_header(encoder)
        // The two sides are different people: coded as true stereo, never folded to mono.
        if channels == 2 { _ = copusenc_force_channels(encoder, 2) }
    }

    deinit {
        ope_encoder_destroy(encoder)
    }

    /// Encodes interleaved samples (`channels` per frame).
    func write(_ interleaved: [Int16]) throws {
        guard !interleaved.isEmpty else { return }
        let result = interleaved.withUnsafeBufferPointer {
            ope_encoder_write(encoder, $0.baseAddress, Int32(interleaved.count / channels))
        }
        guard result == 0 else { throw Failure(description: "libopusenc could not encode (\(result))") }
        wroteAudio = true
    }

    /// The Ogg bytes written since the last call.
    func take() -> [UInt8] {
        defer { sink.bytes = [] }
        return sink.bytes
    }

    /// Flushes everything and ends the stream; returns the last Ogg bytes.
    func finish() throws -> [UInt8] {
        guard !drained else { return take() }
        // libopusenc cannot drain a stream that never had audio (an assertion): give it 20 ms of silence.
        if !wroteAudio { try write([Int16](repeating: 0, count: 160 * channels)) }
        drained = true
        let result = ope_encoder_drain(encoder)
        guard result == 0 else { throw Failure(description: "libopusenc could not finish (\(result))") }
        return take()
    }
}
