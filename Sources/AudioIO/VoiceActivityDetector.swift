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
        /// How far above the noise floor (dB) a frame must be to keep an utterance going, when lower
        /// than ``speechAboveNoiseDecibels`` (hysteresis: a syllable half-masked by babble does not
        /// split the caller's sentence in two). `nil` is the same as the onset's.
        public var continueAboveNoiseDecibels: Double? = 7
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
        /// Ana." is one utterance and the agent does not start answering in the middle of it. (The
        /// smoothed level lags the line by about 40 ms, so 400 ms here is 440 ms of real silence.)
        public var minimumEndSilence = Duration.milliseconds(400)
        /// Longest silence the detector waits before ending an utterance.
        public var maximumEndSilence = Duration.milliseconds(650)
        /// The end silence is this many times the longest pause inside the utterance so far.
        public var pauseMultiplier = 2.6
        /// Utterances shorter than this are dropped as noise (a cough, a click).
        public var minimumUtterance = Duration.milliseconds(120)
        /// When set, the noise floor is the quietest moment of this window (minimum statistics), kept
        /// up to date through speech as well: babble or music that comes up mid-call lifts it within
        /// the window, instead of holding an utterance open forever. `nil` is the floor of old, which
        /// moved only between utterances.
        public var noiseFloorWindow: Duration? = .milliseconds(1600)
        /// How far above the window's quietest moment (dB) the floor sits: the quietest moments of
        /// babble or music are well below their usual level.
        public var floorAboveMinimumDecibels = 4.0
        /// When set, a frame is voiced when at least this share of its energy is below 1 kHz (where
        /// the voice's first formants are, and a plate's ring and a hiss are not); `nil` tells voiced
        /// speech from hiss by zero crossings alone, as of old.
        public var minimumLowBandShare: Double? = 0.45
        /// Frames whose mean power a decision is made on: three (60 ms) keep a syllable masked in
        /// babble from splitting an utterance, and a lone frame of noise from starting one.
        public var smoothingFrames = 3
        /// Frames at the start of a call left out of the floor (a canceller or denoiser settling).
        public var warmUpFrames = 5

        public init() {}

        /// The detector as it was before the noise benchmark: a floor that moved only between
        /// utterances, zero crossings for voicing, one threshold, no smoothing (its baseline).
        public static var original: Settings {
            var settings = Settings()
            settings.noiseFloorWindow = nil
            settings.minimumLowBandShare = nil
            settings.continueAboveNoiseDecibels = nil
            settings.smoothingFrames = 1
            settings.minimumEndSilence = .milliseconds(450)
            settings.maximumEndSilence = .milliseconds(700)
            return settings
        }
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
    /// Levels (dBFS, two frames smoothed) of the floor's window, oldest first, when it has one.
    private var windowLevels: [Double] = []
    private var previousLevel: Double?
    /// The 1 kHz low-pass filter's state, carried from frame to frame.
    private var lowPass = LowPassFilter()
    /// Powers of the last ``Settings/smoothingFrames`` frames.
    private var recentPowers: [Double] = []
    /// The smoothed level (dBFS) of the last frame processed.
    public private(set) var lastLevel = -96.0
    /// Whether the last frame processed counted as speech.
    public private(set) var lastFrameWasSpeech = false
    /// Speech frames heard in the utterance under way, its onset frames included.
    public private(set) var speechFramesInUtterance = 0

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
        let samples = MuLaw.decode(frame)
        let (frameDecibels, crossings) = Self.measure(samples)
        let lowBandShare = settings.minimumLowBandShare == nil ? 1 : lowPass.lowBandShare(of: samples)
        var decibels = frameDecibels
        if settings.smoothingFrames > 1 {
            recentPowers.append(Decibels.power(frameDecibels))
            if recentPowers.count > settings.smoothingFrames { recentPowers.removeFirst() }
            decibels = Decibels.level(meanOf: recentPowers)
        }
        if let window = settings.noiseFloorWindow {
            guard frameIndex >= settings.warmUpFrames else { return nil }
            trackFloor(decibels, window: window)
        }
        let floor = noiseFloor ?? min(decibels, settings.minimumSpeechDecibels)
        let above =
            inUtterance
            ? min(settings.continueAboveNoiseDecibels ?? .infinity, settings.speechAboveNoiseDecibels)
            : settings.speechAboveNoiseDecibels
        // An onset also needs each frame loud on its own: smoothing spreads a click over three frames.
        let frameLoudEnough =
            inUtterance || settings.smoothingFrames <= 1
            || frameDecibels > max(floor + above - Self.smoothingAllowanceDecibels, settings.minimumSpeechDecibels)
        let loudEnough = decibels > max(floor + above, settings.minimumSpeechDecibels) && frameLoudEnough
        // By the low band, only voiced frames count: a fricative inside a word is a short gap the end
        // silence spans, and a clatter or a hiss never starts or holds open an utterance.
        let voiced =
            if let share = settings.minimumLowBandShare { lowBandShare >= share } else {
                crossings <= settings.maximumZeroCrossings || decibels > floor + settings.fricativeAboveNoiseDecibels
            }
        let isSpeech = loudEnough && voiced

        if settings.noiseFloorWindow == nil {
            // The floor follows quiet frames quickly downwards and slowly upwards.
            noiseFloor = isSpeech ? floor : floor + (decibels - floor) * (decibels < floor ? 0.3 : 0.02)
        }

        lastFrameWasSpeech = isSpeech
        lastLevel = decibels
        if isSpeech {
            speechRun += 1
            if inUtterance {
                if silenceRun > 0 { longestPauseFrames = max(longestPauseFrames, silenceRun) }
                silenceRun = 0
                lastSpeechFrame = frameIndex
                speechFramesInUtterance += 1
            } else if speechRun >= settings.onsetFrames {
                inUtterance = true
                utteranceStart = frameIndex - speechRun + 1
                lastSpeechFrame = frameIndex
                silenceRun = 0
                longestPauseFrames = 0
                speechFramesInUtterance = speechRun
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

    /// How far below the onset threshold a frame may be when its smoothed level is above it.
    static let smoothingAllowanceDecibels = 6.0

    /// Minimum statistics: the floor is the quietest (two-frame smoothed) level of the window.
    private mutating func trackFloor(_ decibels: Double, window: Duration) {
        let smoothed =
            previousLevel.map { Decibels.level(power: (Decibels.power($0) + Decibels.power(decibels)) / 2) } ?? decibels
        previousLevel = decibels
        windowLevels.append(smoothed)
        let capacity = max(
            1, Int(window.components.seconds) * 50 + Int(window.components.attoseconds / 20_000_000_000_000_000))
        if windowLevels.count > capacity { windowLevels.removeFirst(windowLevels.count - capacity) }
        noiseFloor = windowLevels.min().map { $0 + settings.floorAboveMinimumDecibels }
    }

    /// Level in dBFS and zero crossings of one frame's samples.
    static func measure(_ samples: [Int16]) -> (decibels: Double, crossings: Int) {
        guard var previous = samples.first else { return (-96, 0) }
        var sum = 0.0
        var crossings = 0
        for sample in samples {
            sum += Double(sample) * Double(sample)
            if (sample >= 0) != (previous >= 0) { crossings += 1 }
            previous = sample
        }
        let rms = (sum / Double(samples.count)).squareRoot()
        return (Decibels.level(rms: rms), crossings)
    }
}

/// A second-order Butterworth low-pass at 1 kHz for 8 kHz audio, to tell how much of a frame's
/// energy lies where voiced speech has most of its own.
struct LowPassFilter: Sendable {
    private var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0
    private static let (b0, b1, b2, a1, a2): (Double, Double, Double, Double, Double) = {
        let omega = 2 * Double.pi * 1000 / 8000
        let alpha = sin(omega) / (2 * 0.707_106_781)
        let a0 = 1 + alpha
        let cosine = cos(omega)
        return ((1 - cosine) / 2 / a0, (1 - cosine) / a0, (1 - cosine) / 2 / a0, -2 * cosine / a0, (1 - alpha) / a0)
    }()

    /// The share (0...1) of the frame's energy below 1 kHz.
    mutating func lowBandShare(of samples: [Int16]) -> Double {
        var total = 0.0
        var low = 0.0
        for sample in samples {
            let x = Double(sample)
            let y = Self.b0 * x + Self.b1 * x1 + Self.b2 * x2 - Self.a1 * y1 - Self.a2 * y2
            (x2, x1, y2, y1) = (x1, x, y1, y)
            total += x * x
            low += y * y
        }
        return total > 0 ? min(1, low / total) : 1
    }
}
