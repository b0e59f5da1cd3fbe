import CSpeexDSP
import Foundation

/// Cleans the caller's audio before anything listens to it. The agent's own voice, echoed back by
/// the caller's phone, is cancelled first (SpeexDSP's MDF echo canceller, fed the frames the agent
/// played); then the preprocessor suppresses stationary noise and the residual echo, and evens out
/// the level (SpeexDSP's denoiser and automatic gain control).
///
/// Not `Sendable`: the SpeexDSP states are mutable C objects, so one call owns one cleaner and uses
/// it from its own actor only.
public final class CallerAudioCleaner {
    /// Tuning; the defaults were chosen with `edge-agent audio bench` (see the README).
    public struct Settings: Sendable, Equatable {
        /// Whether stationary noise is suppressed. Off by default: on babble, clatter and music the
        /// denoiser's fluctuating output made the voice activity detector worse, not better (see the
        /// README's listening benchmark).
        public var noiseSuppression = false
        /// How far (dB) stationary noise is pushed down.
        public var noiseSuppressionDecibels = 30
        /// Whether quiet callers are brought up towards ``gainTargetDecibels``. Off by default, for
        /// the same reason as ``noiseSuppression``.
        public var automaticGain = false
        /// The level (dBFS) the gain control aims speech at.
        public var gainTargetDecibels = -22.0
        /// The most the gain control adds (dB), so a quiet line's hiss is not lifted into speech.
        public var maximumGainDecibels = 12
        /// Whether the agent's echo is cancelled.
        public var echoCancellation = true
        /// The longest echo path cancelled: the phone network's round trip plus the caller's room.
        public var echoTailMilliseconds = 256
        /// How far (dB) the preprocessor pushes down what echo is left after cancellation.
        public var residualEchoSuppressionDecibels = 40

        public init() {}
    }

    /// SpeexDSP would not make a state for these settings.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let settings: Settings
    private let preprocessor: OpaquePointer
    private let echoCanceller: OpaquePointer?
    /// Frames the agent played that the echo canceller has not yet lined up with a caller frame.
    private var played: [[Int16]] = []
    private var input = [Int16](repeating: 0, count: TelephoneAudio.samplesPerFrame)
    private var output = [Int16](repeating: 0, count: TelephoneAudio.samplesPerFrame)
    private static let silentFrame = [Int16](repeating: 0, count: TelephoneAudio.samplesPerFrame)
    /// Played frames kept waiting at most: more means the two directions drifted apart, and the
    /// oldest are dropped so the reference stays close to what the caller hears now.
    private static let maximumWaitingFrames = 8

    public init(settings: Settings = Settings()) throws(Failure) {
        self.settings = settings
        let frame = Int32(TelephoneAudio.samplesPerFrame)
        let rate = Int32(TelephoneAudio.sampleRate)
        guard let preprocessor = speex_preprocess_state_init(frame, rate) else {
            throw Failure(description: "SpeexDSP could not start its preprocessor (160 samples at 8 kHz)")
        }
        self.preprocessor = preprocessor
        if settings.echoCancellation {
            let tail = Int32(max(20, settings.echoTailMilliseconds) * TelephoneAudio.sampleRate / 1000)
            guard let echo = speex_echo_state_init(frame, tail) else {
                speex_preprocess_state_destroy(preprocessor)
                throw Failure(description: "SpeexDSP could not start its echo canceller (tail \(tail) samples)")
            }
            _ = cspeex_echo_set_sampling_rate(echo, rate)
            _ = cspeex_preprocess_set_echo_state(preprocessor, echo)
            _ = cspeex_preprocess_set_int(
                preprocessor, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, -Int32(settings.residualEchoSuppressionDecibels))
            _ = cspeex_preprocess_set_int(
                preprocessor, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE,
                -Int32(settings.residualEchoSuppressionDecibels / 2))
            echoCanceller = echo
        } else {
            echoCanceller = nil
        }
        _ = cspeex_preprocess_enable_denoise(preprocessor, settings.noiseSuppression ? 1 : 0)
        _ = cspeex_preprocess_set_int(
            preprocessor, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, -Int32(settings.noiseSuppressionDecibels))
        _ = cspeex_preprocess_set_int(preprocessor, SPEEX_PREPROCESS_SET_AGC, settings.automaticGain ? 1 : 0)
        if settings.automaticGain {
            let level = Float(32768 * Decibels.amplitude(settings.gainTargetDecibels))
            _ = cspeex_preprocess_set_float(preprocessor, SPEEX_PREPROCESS_SET_AGC_LEVEL, level)
            _ = cspeex_preprocess_set_int(
                preprocessor, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, Int32(settings.maximumGainDecibels))
        }
    }

    deinit {
        speex_preprocess_state_destroy(preprocessor)
        if let echoCanceller { speex_echo_state_destroy(echoCanceller) }
    }

    /// A 20 ms frame the agent played to the caller, decoded: the reference the echo is cancelled against.
    public func agentPlayed(samples: [Int16]) {
        guard echoCanceller != nil, samples.count == TelephoneAudio.samplesPerFrame else { return }
        played.append(samples)
        if played.count > Self.maximumWaitingFrames { played.removeFirst(played.count - Self.maximumWaitingFrames) }
    }

    /// Cleans one 20 ms mu-law frame of the caller's audio; a frame of another size comes back as it was.
    public func clean(_ frame: [UInt8]) -> [UInt8] {
        guard frame.count == TelephoneAudio.samplesPerFrame else { return frame }
        for (index, byte) in frame.enumerated() { input[index] = MuLaw.decode(byte) }
        if let echoCanceller {
            let reference = played.isEmpty ? Self.silentFrame : played.removeFirst()
            reference.withUnsafeBufferPointer { far in
                input.withUnsafeBufferPointer { near in
                    output.withUnsafeMutableBufferPointer { out in
                        speex_echo_cancellation(echoCanceller, near.baseAddress, far.baseAddress, out.baseAddress)
                    }
                }
            }
            swap(&input, &output)
        }
        input.withUnsafeMutableBufferPointer { samples in
            _ = speex_preprocess_run(preprocessor, samples.baseAddress)
        }
        return MuLaw.encode(input)
    }
}
