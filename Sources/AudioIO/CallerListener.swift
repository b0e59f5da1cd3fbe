import Foundation

/// Listens to the caller the way a person at the other end would: the agent's own echo and the
/// room's steady noise are cleaned away (``CallerAudioCleaner``), speech is found by the
/// ``VoiceActivityDetector``, and while the agent is speaking a sound must go on being speech for
/// ``Settings/bargeInSpeech`` before it interrupts, so a dropped plate or a shout across the room
/// never stops the agent mid-sentence. When the agent is quiet a caller's onset counts at once.
///
/// Not `Sendable` (it owns the cleaner's C state): one call owns one listener.
public final class CallerListener {
    /// Tuning of the whole listening path.
    public struct Settings: Sendable, Equatable {
        /// The cleaning stage; `nil` hears the line as it comes.
        public var cleaning: CallerAudioCleaner.Settings? = CallerAudioCleaner.Settings()
        /// Voice activity and end of utterance.
        public var detector = VoiceActivityDetector.Settings()
        /// Speech heard in one utterance, while the agent speaks, before the caller is taken to be
        /// interrupting: longer than a clatter, shorter than "wait, no".
        public var bargeInSpeech = Duration.milliseconds(300)
        /// Agent speech the echo canceller hears before it is trusted (it learns the echo path over
        /// the first seconds of the call): until then an interruption must also be no more than
        /// ``untrainedEchoMarginDecibels`` below the agent's own voice, which an echo never is.
        public var echoTraining = Duration.seconds(3)
        /// See ``echoTraining``.
        public var untrainedEchoMarginDecibels = 12.0
        /// While the agent speaks, the speech that makes an interruption (the last ``bargeInSpeech``
        /// of it) must be, on average, no more than this far (dB) below the caller's own voice: their
        /// utterances so far, else ``expectedCallerDecibels``. Someone talking into the phone, not the
        /// room behind them, whose loudest moments come close but whose average does not. `nil`
        /// takes speech of any level.
        public var bargeInBelowCallerDecibels: Double? = 5
        /// The level (dBFS) a caller is taken to speak at before their first utterance: a normal line.
        public var expectedCallerDecibels = -28.0

        public init() {}

        /// The line as it comes, and an interruption at the first onset (how the agent listened
        /// before; the noise benchmark's baseline).
        public static var unprocessed: Settings {
            var settings = Settings()
            settings.cleaning = nil
            settings.bargeInSpeech = .zero
            settings.detector = .original
            settings.bargeInBelowCallerDecibels = nil
            return settings
        }
    }

    /// What a frame changed, for the call.
    public enum Event: Sendable, Equatable {
        /// The caller is talking and it counts: start listening to the words, and interrupt the agent
        /// if it is speaking. The utterance began `framesAgo` frames before this one.
        case started(framesAgo: Int)
        /// The caller finished an utterance that had ``started(framesAgo:)``, ``currentEndSilence`` ago.
        case ended
        /// What had started was too short to be words (a cough, a knock).
        case noise
        /// Sound over the agent's speech that stopped before it could count as an interruption;
        /// nothing was started for it.
        case ignored
    }

    public let settings: Settings
    private let cleaner: CallerAudioCleaner?
    private var detector: VoiceActivityDetector
    private var frameIndex = 0
    /// The first frame of an onset heard over the agent and not yet counted as an interruption.
    private var heldOnset: Int?
    /// The utterance under way was reported as started.
    private var started = false
    /// Power and speech frames of the utterance under way, for its level.
    private var utterancePower = 0.0
    private var utteranceFrames = 0
    /// Levels (dBFS) of the caller's utterances with words in them so far.
    private var utteranceLevels: [Double] = []
    /// The level of the last utterance that ended, until the call says it had words.
    private var lastUtteranceLevel: Double?
    /// How much louder (dB) the caller's last utterance with words was than their earlier ones (nil
    /// for the first): a raised voice.
    public private(set) var lastUtteranceLouderThanUsual: Double?
    /// Frames of the agent's voice played so far (the echo canceller's training).
    private var agentFramesHeard = 0
    /// Levels (dBFS) of the last frames the agent played, newest last.
    private var agentLevels: [Double] = []
    /// Frames of the held onset that can be the caller's own voice (see ``countCallerFrame()``).
    private var callerFrames = 0
    /// The powers of the last of those frames, as many as make ``Settings/bargeInSpeech``.
    private var callerFramePowers: [Double] = []
    /// The first of those frames: where the caller's own voice began (the onset may have been echo
    /// or the room).
    private var firstCallerFrame: Int?

    /// Why the cleaning stage is off although the settings ask for it (SpeexDSP refused to start);
    /// the call still listens, to the line as it comes.
    public let cleaningFailure: CallerAudioCleaner.Failure?

    public init(settings: Settings = Settings()) {
        self.settings = settings
        do {
            cleaner = try settings.cleaning.map { settings throws(CallerAudioCleaner.Failure) in
                try CallerAudioCleaner(settings: settings)
            }
            cleaningFailure = nil
        } catch {
            cleaner = nil
            cleaningFailure = error
        }
        detector = VoiceActivityDetector(settings: settings.detector)
    }

    /// Whether a sound heard over the agent is waiting to be counted as an interruption or not.
    public var isHoldingOnset: Bool { heldOnset != nil }

    /// The silence that would end the current utterance now.
    public var currentEndSilence: Duration { detector.currentEndSilence }

    /// A frame the agent played to the caller (the echo canceller's reference).
    public func agentPlayed(_ frame: [UInt8]) {
        let samples = MuLaw.decode(frame)
        cleaner?.agentPlayed(samples: samples)
        let level = VoiceActivityDetector.measure(samples).decibels
        if level > -60 { agentFramesHeard += 1 }
        agentLevels.append(level)
        if agentLevels.count > Self.echoWindowFrames { agentLevels.removeFirst() }
    }

    /// How far back (frames) the agent's voice can still be echoing: the canceller's tail.
    static let echoWindowFrames = 15

    /// Whether the echo canceller has not yet heard enough of the agent to be trusted.
    private var echoUntrained: Bool {
        guard let cleaning = settings.cleaning, cleaning.echoCancellation else { return false }
        return Duration.milliseconds(agentFramesHeard * TelephoneAudio.frameMilliseconds) < settings.echoTraining
    }

    /// Listens to one 20 ms mu-law frame of the caller's audio.
    /// - Parameter agentSpeaking: whether the agent is speaking (or about to), so that the caller's
    ///   sound must last before it interrupts.
    /// - Returns: the cleaned frame (what the recognizer should hear) and what it changed.
    public func listen(_ frame: [UInt8], agentSpeaking: Bool) -> (audio: [UInt8], event: Event?) {
        defer { frameIndex += 1 }
        let audio = cleaner?.clean(frame) ?? frame
        let event = detector.process(audio)
        if started, detector.lastFrameWasSpeech {
            utterancePower += Decibels.power(detector.lastLevel)
            utteranceFrames += 1
        }
        switch event {
        case .speechStarted(let onset):
            if agentSpeaking && settings.bargeInSpeech > .zero {
                heldOnset = onset
                // The onset's own frames count, unless they may be the untrained canceller's echo.
                callerFramePowers = []
                callerFrames = echoUntrained ? 0 : detector.speechFramesInUtterance - 1
                firstCallerFrame = echoUntrained ? nil : onset
                countCallerFrame()
                return (audio, nil)
            }
            started = true
            return (audio, .started(framesAgo: frameIndex - onset))
        case .utteranceEnded:
            if started { measureUtterance() }
            return (audio, finish(started ? .ended : .ignored))
        case .noiseEnded:
            (utterancePower, utteranceFrames) = (0, 0)
            return (audio, finish(started ? .noise : .ignored))
        case nil:
            guard let onset = heldOnset, detector.isSpeaking else { return (audio, nil) }
            countCallerFrame()
            let speech = Duration.milliseconds(callerFrames * TelephoneAudio.frameMilliseconds)
            guard !agentSpeaking || (speech >= settings.bargeInSpeech && heldSpeechIsCallersLevel) else {
                return (audio, nil)
            }
            heldOnset = nil
            started = true
            return (audio, .started(framesAgo: frameIndex - (firstCallerFrame ?? onset)))
        }
    }

    /// Counts the last frame towards the held onset's interruption if it can be the caller's own
    /// voice: speech and, while the canceller is untrained, within
    /// ``Settings/untrainedEchoMarginDecibels`` of the agent's recent voice.
    private func countCallerFrame() {
        guard detector.lastFrameWasSpeech else { return }
        if echoUntrained,
            detector.lastLevel < (agentLevels.max() ?? -96) - settings.untrainedEchoMarginDecibels
        {
            return
        }
        callerFrames += 1
        if firstCallerFrame == nil { firstCallerFrame = frameIndex }
        callerFramePowers.append(Decibels.power(detector.lastLevel))
        if callerFramePowers.count > framesForBargeIn { callerFramePowers.removeFirst() }
    }

    /// Frames of speech that make ``Settings/bargeInSpeech``.
    private var framesForBargeIn: Int {
        max(1, Int(settings.bargeInSpeech / .milliseconds(TelephoneAudio.frameMilliseconds)))
    }

    /// Whether the last ``Settings/bargeInSpeech`` of the held onset's caller frames are, on average,
    /// within ``Settings/bargeInBelowCallerDecibels`` of the caller's usual level.
    private var heldSpeechIsCallersLevel: Bool {
        guard let margin = settings.bargeInBelowCallerDecibels, !callerFramePowers.isEmpty else { return true }
        let level = Decibels.level(meanOf: callerFramePowers)
        return level >= callerLevel - margin
    }

    /// The caller's usual level (dBFS): the mean of their utterances' levels so far.
    private var callerLevel: Double {
        utteranceLevels.isEmpty
            ? settings.expectedCallerDecibels : utteranceLevels.reduce(0, +) / Double(utteranceLevels.count)
    }

    private func measureUtterance() {
        defer { (utterancePower, utteranceFrames) = (0, 0) }
        guard utteranceFrames > 0 else { return }
        lastUtteranceLevel = Decibels.level(power: utterancePower / Double(utteranceFrames))
    }

    /// The recognizer heard words in the last utterance: its level is the caller's own voice (the
    /// room's voices can make an utterance too, with no words in it). Sets
    /// ``lastUtteranceLouderThanUsual`` and the level an interruption is measured against.
    public func lastUtteranceWasWords() {
        guard let level = lastUtteranceLevel else { return }
        lastUtteranceLevel = nil
        lastUtteranceLouderThanUsual =
            utteranceLevels.isEmpty ? nil : level - utteranceLevels.reduce(0, +) / Double(utteranceLevels.count)
        utteranceLevels.append(level)
    }

    private func finish(_ event: Event) -> Event? {
        let wasHeld = heldOnset != nil
        heldOnset = nil
        defer { started = false }
        return started || wasHeld ? event : nil
    }
}
