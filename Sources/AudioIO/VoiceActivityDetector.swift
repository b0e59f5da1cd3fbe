import Foundation

/// Finds where a caller starts and stops talking in 20 ms mu-law frames: energy against an
/// adaptive noise floor, with zero-crossing rate to tell voiced speech from hiss, an onset that needs
/// a few speech frames in a row (so a click is not speech), and an end-of-utterance silence that
/// adapts to the caller's own pauses (so a slow speaker is not cut off and a quick one is not kept
/// waiting).
public struct VoiceActivityDetector: Sendable {
    /// Tuning; the defaults were set on espeak-ng speech in English and Spanish over telephone audio.
    public struct Settings: Sendable, Equatable {
        /// How far above the noise floor (dB) a frame must be to count as speech.
        public var speechAboveNoiseDecibels = 12.0
        /// Frames quieter than this (dBFS) are never speech.
        public var minimumSpeechDecibels = -45.0
        /// Consecutive speech frames that make an onset.
        public var onsetFrames = 3
        /// Zero crossings per frame above which a frame counts as hiss unless it is very loud (voiced
        /// speech at 8 kHz crosses zero 10 to 50 times in 20 ms, white noise about 80).
        public var maximumZeroCrossings = 55
        /// How far above the noise floor (dB) a high-crossing frame must be to count as speech (a strong "s").
        public var fricativeAboveNoiseDecibels = 20.0
        /// Shortest silence that ends an utterance: longer than the pause between two sentences of one
        /// breath (about 320 ms in espeak-ng, and in most callers), so "...at seven thirty. My name is
        /// Ana." is one utterance and the agent does not start answering in the middle of it.
        public var minimumEndSilence = Duration.milliseconds(450)
        /// Longest silence the detector waits before ending an utterance.
        public var maximumEndSilence = Duration.milliseconds(700)
        /// The end silence is this many times the longest pause inside the utterance so far.
        public var pauseMultiplier = 2.6
        /// Utterances shorter than this are dropped as noise (a cough, a click).
        public var minimumUtterance = Duration.milliseconds(120)

        public init() {}
    }

    /// What a frame changed.
    public enum Event: Sendable, Equatable {
        /// The caller started talking (reported after the onset frames, dated at the first of them).
        case speechStarted(atFrame: Int)
        /// The caller finished an utterance: speech from `startFrame` up to, not including, `endFrame`.
        case utteranceEnded(startFrame: Int, endFrame: Int)
        /// What started as speech was shorter than ``Settings/minimumUtterance`` (a cough, a knock): not
        /// an utterance after all.
        case noiseEnded
    }

    public let settings: Settings
    /// Set from the first frame (never above -45 dBFS, so a caller who speaks at once is still heard).
    private var noiseFloor: Double?
    private var frameIndex = 0
    private var speechRun = 0
    private var inUtterance = false
    private var utteranceStart = 0
    private var lastSpeechFrame = 0
    private var silenceRun = 0
    private var longestPauseFrames = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Whether the caller is in the middle of an utterance.
    public var isSpeaking: Bool { inUtterance }

    /// The silence that would end the current utterance now, given the pauses heard in it.
    public var currentEndSilence: Duration {
        let pause = Duration.milliseconds(longestPauseFrames * 20)
        let scaled = pause * settings.pauseMultiplier
        return min(max(scaled, settings.minimumEndSilence), settings.maximumEndSilence)
    }

    /// Feeds one 20 ms frame; returns what it changed, if anything.
    public mutating func process(_ frame: [UInt8]) -> Event? {
        defer { frameIndex += 1 }
        let (decibels, crossings) = Self.measure(frame)
        let floor = noiseFloor ?? min(decibels, settings.minimumSpeechDecibels)
        let loudEnough = decibels > max(floor + settings.speechAboveNoiseDecibels, settings.minimumSpeechDecibels)
        let voiced =
            crossings <= settings.maximumZeroCrossings || decibels > floor + settings.fricativeAboveNoiseDecibels
        let isSpeech = loudEnough && voiced

        // The floor follows quiet frames quickly downwards and slowly upwards.
        noiseFloor = isSpeech ? floor : floor + (decibels - floor) * (decibels < floor ? 0.3 : 0.02)

        if isSpeech {
            speechRun += 1
            if inUtterance {
                if silenceRun > 0 { longestPauseFrames = max(longestPauseFrames, silenceRun) }
                silenceRun = 0
                lastSpeechFrame = frameIndex
            } else if speechRun >= settings.onsetFrames {
                inUtterance = true
                utteranceStart = frameIndex - speechRun + 1
                lastSpeechFrame = frameIndex
                silenceRun = 0
                longestPauseFrames = 0
                return .speechStarted(atFrame: utteranceStart)
            }
            return nil
        }

        speechRun = 0
        guard inUtterance else { return nil }
        silenceRun += 1
        if Duration.milliseconds(silenceRun * 20) >= currentEndSilence {
            inUtterance = false
            silenceRun = 0
            let end = lastSpeechFrame + 1
            guard Duration.milliseconds((end - utteranceStart) * 20) >= settings.minimumUtterance else {
                return .noiseEnded
            }
            return .utteranceEnded(startFrame: utteranceStart, endFrame: end)
        }
        return nil
    }

    /// Level in dBFS and zero crossings of one frame.
    static func measure(_ frame: [UInt8]) -> (decibels: Double, crossings: Int) {
        guard !frame.isEmpty else { return (-96, 0) }
        var sum = 0.0
        var crossings = 0
        var previous = MuLaw.decode(frame[0])
        for byte in frame {
            let sample = MuLaw.decode(byte)
            sum += Double(sample) * Double(sample)
            if (sample >= 0) != (previous >= 0) { crossings += 1 }
            previous = sample
        }
        let rms = (sum / Double(frame.count)).squareRoot()
        return (20 * log10(max(rms, 1) / 32768), crossings)
    }
}
