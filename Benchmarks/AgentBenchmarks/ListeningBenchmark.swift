public import AudioIO
import EdgeAgent
import Foundation

/// `edge-agent audio bench`: how well the agent hears a caller on a noisy line, with the listening
/// path as it was (the line as it comes, an interruption at the first onset) and as it is (echo
/// cancelled, noise suppressed, an interruption only after sustained speech).
///
/// Over a ``NoisyLineCorpus`` at each noise and signal-to-noise ratio, with the agent's own voice
/// echoed back at -20 dB after 120 ms, three scenes are played frame by frame through a
/// ``CallerListener``, exactly as a call feeds it:
/// - the agent speaks and the caller says nothing: every interruption is a false barge-in;
/// - the caller speaks while the agent is quiet: the utterance must start once, on the words, and end
///   once, soon after them (the time from the last word to the end is the end-of-turn delay);
/// - the caller speaks over the agent: the interruption must come, and how long it takes is counted.
public struct ListeningBenchmark: Sendable {
    /// One listening path's score in one condition.
    public struct Score: Sendable, Equatable {
        public var falseBargeIns = 0
        /// Seconds of agent speech the false barge-ins are counted over.
        public var agentSpeechSeconds = 0.0
        public var utterances = 0
        public var utterancesEndedCorrectly = 0
        /// Summed end-of-turn delay (last word to the end) of the utterances ended correctly.
        public var endDelaySeconds = 0.0
        public var bargeIns = 0
        public var bargeInsHeard = 0
        /// Summed delay from the first word over the agent to the interruption.
        public var bargeInDelaySeconds = 0.0

        public var falseBargeInsPerMinute: Double { Double(falseBargeIns) / max(agentSpeechSeconds, 1e-9) * 60 }
        public var meanEndDelay: Double? {
            utterancesEndedCorrectly == 0 ? nil : endDelaySeconds / Double(utterancesEndedCorrectly)
        }
        public var meanBargeInDelay: Double? { bargeInsHeard == 0 ? nil : bargeInDelaySeconds / Double(bargeInsHeard) }
    }

    /// A noise at a signal-to-noise ratio (`nil`: no noise, only the echo).
    public struct Condition: Sendable, Hashable, CustomStringConvertible {
        public let noise: NoisyLineCorpus.Noise?
        public let snr: Double?

        public init(noise: NoisyLineCorpus.Noise?, snr: Double?) {
            self.noise = noise
            self.snr = snr
        }

        public var description: String {
            guard let noise, let snr else { return "echo only" }
            return "\(noise.rawValue) \(Int(snr)) dB"
        }
    }

    /// Both paths' scores per condition, and the cleaning stage's cost.
    public struct Results: Sendable, CustomStringConvertible {
        public var rows: [(condition: Condition, before: Score, after: Score)] = []
        /// Processor time of the listening path per 20 ms frame.
        public var cleaningPerFrame: Duration = .zero

        /// The scores of all conditions with this SNR, summed.
        public func total(snr: Double?, after: Bool) -> Score {
            rows.filter { $0.condition.snr == snr }.map { after ? $0.after : $0.before }.reduce(into: Score()) {
                $0.falseBargeIns += $1.falseBargeIns
                $0.agentSpeechSeconds += $1.agentSpeechSeconds
                $0.utterances += $1.utterances
                $0.utterancesEndedCorrectly += $1.utterancesEndedCorrectly
                $0.endDelaySeconds += $1.endDelaySeconds
                $0.bargeIns += $1.bargeIns
                $0.bargeInsHeard += $1.bargeInsHeard
                $0.bargeInDelaySeconds += $1.bargeInDelaySeconds
            }
        }

        public var description: String {
            func milliseconds(_ seconds: Double?) -> String {
                seconds.map { String(format: "%.0f", $0 * 1000) } ?? "-"
            }
            var lines = [
                "| condition | false barge-ins/min (before → after) | utterances ended correctly | "
                    + "end-of-turn delay ms | barge-ins heard | barge-in delay ms |",
                "|---|---|---|---|---|---|",
            ]
            func row(_ label: String, _ before: Score, _ after: Score) -> String {
                "| \(label) | "
                    + String(format: "%.1f → %.1f", before.falseBargeInsPerMinute, after.falseBargeInsPerMinute)
                    + " | \(before.utterancesEndedCorrectly)/\(before.utterances) → "
                    + "\(after.utterancesEndedCorrectly)/\(after.utterances)"
                    + " | \(milliseconds(before.meanEndDelay)) → \(milliseconds(after.meanEndDelay))"
                    + " | \(before.bargeInsHeard)/\(before.bargeIns) → \(after.bargeInsHeard)/\(after.bargeIns)"
                    + " | \(milliseconds(before.meanBargeInDelay)) → \(milliseconds(after.meanBargeInDelay)) |"
            }
            for entry in rows {
                lines.append(row("\(entry.condition)", entry.before, entry.after))
            }
            for snr in [20.0, 10, 5] where rows.contains(where: { $0.condition.snr == snr }) {
                lines.append(
                    row("all noises \(Int(snr)) dB", total(snr: snr, after: false), total(snr: snr, after: true)))
            }
            let calls = 50.0
            let share = cleaningPerFrame.seconds * calls * 50 * 100
            lines.append(
                String(
                    format:
                        "\nlistening (cleaning and detection): %.1f µs per 20 ms frame; 50 calls take %.1f%% of one core",
                    cleaningPerFrame.seconds * 1e6, share))
            return lines.joined(separator: "\n")
        }
    }

    /// The echo's delay and level below the agent's voice.
    static let echoDelayFrames = 6
    static let echoGain = 0.1
    /// How long the agent counts as speaking after its last frame (until Twilio's mark comes back).
    static let markDelayFrames = 15

    let corpus: NoisyLineCorpus
    let conditions: [Condition]
    let before: CallerListener.Settings
    let after: CallerListener.Settings

    public init(
        corpus: NoisyLineCorpus, conditions: [Condition] = Self.allConditions,
        before: CallerListener.Settings = .unprocessed, after: CallerListener.Settings = CallerListener.Settings()
    ) {
        self.corpus = corpus
        self.conditions = conditions
        self.before = before
        self.after = after
    }

    /// Echo alone, then every noise at 20, 10 and 5 dB.
    public static var allConditions: [Condition] {
        [Condition(noise: nil, snr: nil)]
            + [20.0, 10, 5].flatMap { snr in NoisyLineCorpus.Noise.allCases.map { Condition(noise: $0, snr: snr) } }
    }

    public func run() -> Results {
        var results = Results()
        for condition in conditions {
            results.rows.append((condition, score(condition, settings: before), score(condition, settings: after)))
        }
        results.cleaningPerFrame = cleaningCost()
        return results
    }

    /// Plays the scenes of one condition one after another through one listener, as one long call
    /// (so the echo canceller learns the echo path once, as it does in a call).
    public func score(_ condition: Condition, settings: CallerListener.Settings) -> Score {
        var score = Score()
        let listener = CallerListener(settings: settings)
        var offset = 0
        for agent in corpus.agentSentences {
            // The agent speaks; the caller is silent.
            // The agent goes on after a false barge-in here, so that every one in its sentence is counted.
            let scene = Scene(
                agent: agent.samples, agentStart: 25, caller: nil, callerStart: 0,
                noise: condition, noiseOffset: offset, corpus: corpus, stopsWhenInterrupted: false)
            let events = scene.play(listener)
            offset += events.count
            score.falseBargeIns += events.filter { $0.agentSpeaking && $0.started }.count
            score.agentSpeechSeconds += Double(agent.samples.count) / Double(TelephoneAudio.sampleRate)
        }
        for (index, caller) in corpus.callerSentences.enumerated() {
            // The caller speaks to a quiet agent.
            let turn = Scene(
                agent: nil, agentStart: 0, caller: caller, callerStart: 50, noise: condition,
                noiseOffset: offset, corpus: corpus)
            let events = turn.play(listener)
            offset += events.count
            score.utterances += 1
            // Onsets dropped as noise (a clatter) are not utterances: only the starts that ended.
            let utterances = events.utterances
            // The recognizer hears words in what the caller said (never in the room alone).
            if !utterances.isEmpty { listener.lastUtteranceWasWords() }
            let starts = utterances.map(\.start)
            let ends = utterances.map(\.end)
            let speechStart = 50 + caller.speechStart / TelephoneAudio.samplesPerFrame
            let speechEnd = 50 + caller.speechEnd / TelephoneAudio.samplesPerFrame
            if starts.count == 1, ends.count == 1, let start = starts.first, let end = ends.first,
                start.frame >= speechStart - 3, start.frame <= speechStart + 25,
                end.frame >= speechEnd, end.frame <= speechEnd + 50
            {
                score.utterancesEndedCorrectly += 1
                score.endDelaySeconds += Double(end.frame - speechEnd) * 0.02
            }
            // The caller speaks over the agent, a second into its sentence.
            let agent = corpus.agentSentences[index % corpus.agentSentences.count]
            let overlap = Scene(
                agent: agent.samples, agentStart: 25, caller: caller, callerStart: 75, noise: condition,
                noiseOffset: offset, corpus: corpus)
            let overlapEvents = overlap.play(listener)
            if !overlapEvents.utterances.isEmpty { listener.lastUtteranceWasWords() }
            offset += overlapEvents.count
            score.bargeIns += 1
            let callerStart = 75 + caller.speechStart / TelephoneAudio.samplesPerFrame
            if let first = overlapEvents.first(where: \.started), first.frame >= callerStart - 3,
                first.frame <= callerStart + 50
            {
                score.bargeInsHeard += 1
                score.bargeInDelaySeconds += Double(max(0, first.frame - callerStart)) * 0.02
            }
        }
        return score
    }

    /// Processor time of the whole listening path (cleaning and detection), per frame, over ten
    /// seconds of noisy echo.
    func cleaningCost() -> Duration {
        let listener = CallerListener(settings: after)
        let agent = corpus.agentSentences.first?.samples ?? []
        let frames = 500
        let noise = corpus.noise(.restaurant, snr: 10, offset: 0, count: frames * TelephoneAudio.samplesPerFrame)
        let inbound = (0..<frames).map { frame in
            MuLaw.encode(
                (0..<TelephoneAudio.samplesPerFrame).map { index in
                    Int16(clamping: Int(noise[frame * TelephoneAudio.samplesPerFrame + index]))
                })
        }
        let outbound = (0..<frames).map { frame in
            MuLaw.encode(
                (0..<TelephoneAudio.samplesPerFrame).map { index in
                    let position = frame * TelephoneAudio.samplesPerFrame + index
                    return position < agent.count ? agent[position] : 0
                })
        }
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for (played, heard) in zip(outbound, inbound) {
                listener.agentPlayed(played)
                _ = listener.listen(heard, agentSpeaking: true)
            }
        }
        return elapsed / frames
    }
}

extension [Scene.Heard] {
    /// Utterances: each start followed by an end (a start dropped as noise is none).
    var utterances: [(start: Scene.Heard, end: Scene.Heard)] {
        var result: [(start: Scene.Heard, end: Scene.Heard)] = []
        var open: Scene.Heard?
        for heard in self {
            if heard.started { open = heard }
            if heard.noise { open = nil }
            if heard.ended, let start = open {
                result.append((start, heard))
                open = nil
            }
        }
        return result
    }
}

/// One scene of the benchmark: what the agent plays, what the caller says, the room's noise and the
/// echo, mixed frame by frame as the line would carry them.
struct Scene {
    struct Heard {
        let frame: Int
        let agentSpeaking: Bool
        let started: Bool
        let ended: Bool
        let noise: Bool
    }

    let agent: [Int16]?
    /// The frame the agent starts speaking at.
    let agentStart: Int
    let caller: NoisyLineCorpus.Sentence?
    let callerStart: Int
    let noise: ListeningBenchmark.Condition
    let noiseOffset: Int
    let corpus: NoisyLineCorpus
    var stopsWhenInterrupted = true

    func play(_ listener: CallerListener) -> [Heard] {
        let samplesPerFrame = TelephoneAudio.samplesPerFrame
        let agentFrames = (agent?.count ?? 0) / samplesPerFrame
        let callerFrames = (caller?.samples.count ?? 0) / samplesPerFrame
        let total = max(agentStart + agentFrames, callerStart + callerFrames) + 75
        let noiseSamples = corpus.noise(
            noise.noise ?? .babble, snr: noise.noise == nil ? nil : noise.snr, offset: noiseOffset,
            count: total * samplesPerFrame)
        // What the agent actually played, per frame (it stops at an interruption).
        var played = [[Int16]](repeating: [], count: total)
        var interrupted = false
        var lastAgentFrame = -1_000
        var heard: [Heard] = []
        for frame in 0..<total {
            let agentIndex = frame - agentStart
            if let agent, !interrupted, agentIndex >= 0, agentIndex < agentFrames {
                let samples = Array(agent[(agentIndex * samplesPerFrame)..<((agentIndex + 1) * samplesPerFrame)])
                played[frame] = samples
                listener.agentPlayed(MuLaw.encode(samples))
                lastAgentFrame = frame
            }
            var line = [Double](repeating: 0, count: samplesPerFrame)
            for index in 0..<samplesPerFrame {
                line[index] = noiseSamples[frame * samplesPerFrame + index]
            }
            let echoFrame = frame - ListeningBenchmark.echoDelayFrames
            if echoFrame >= 0, !played[echoFrame].isEmpty {
                for (index, sample) in played[echoFrame].enumerated() {
                    line[index] += Double(sample) * ListeningBenchmark.echoGain
                }
            }
            if let caller {
                let callerIndex = frame - callerStart
                if callerIndex >= 0, callerIndex < callerFrames {
                    for index in 0..<samplesPerFrame {
                        line[index] += Double(caller.samples[callerIndex * samplesPerFrame + index])
                    }
                }
            }
            let agentSpeaking = frame - lastAgentFrame <= ListeningBenchmark.markDelayFrames
            let bytes = MuLaw.encode(line.map { Int16(clamping: Int($0.rounded())) })
            let event = listener.listen(bytes, agentSpeaking: agentSpeaking).event
            let started = if case .started = event { true } else { false }
            if started && agentSpeaking && stopsWhenInterrupted { interrupted = true }
            heard.append(
                Heard(
                    frame: frame, agentSpeaking: agentSpeaking, started: started, ended: event == .ended,
                    noise: event == .noise))
        }
        return heard
    }
}
