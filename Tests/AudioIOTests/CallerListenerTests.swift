import Foundation
import Testing

@testable import AudioIO

/// The listening path with real speech (the espeak-ng fixtures) and the real SpeexDSP canceller: the
/// agent's voice echoed back, a clatter over it, and a caller who does or does not interrupt.
@Suite("Listening to the caller: echo, clatter and barge-in")
struct CallerListenerTests {
    typealias Fixtures = VoiceActivityDetectorTests

    /// Linear samples of a mu-law fixture, scaled by `gain`.
    static func samples(_ name: String, gain: Double = 1) throws -> [Int16] {
        MuLaw.decode(try Fixtures.fixture(name)).map { Int16(clamping: Int((Double($0) * gain).rounded())) }
    }

    /// A plate set down hard: a click and two damped partials at 2.2 and 3.1 kHz, 250 ms long.
    static func clatter(peak: Double) -> [Int16] {
        (0..<2000).map { index in
            let time = Double(index) / 8000
            let ring =
                sin(2 * .pi * 2200 * time) * exp(-time / 0.06) + 0.7 * sin(2 * .pi * 3100 * time) * exp(-time / 0.04)
            let click = index < 24 ? (index % 2 == 0 ? 1.0 : -1.0) * exp(-Double(index) / 8) : 0
            return Int16(clamping: Int((ring + click) * peak))
        }
    }

    /// What happened, frame by frame, when the agent plays `agent` from frame 0 and the caller's line
    /// carries `caller`, plus the agent's echo 120 ms later at -20 dB. The agent stops when interrupted.
    static func play(agent: [Int16], caller: [Int16], settings: CallerListener.Settings = CallerListener.Settings())
        -> [(frame: Int, event: CallerListener.Event)]
    {
        let listener = CallerListener(settings: settings)
        let frames = max(agent.count, caller.count) / 160 + 60
        var played: [[Int16]] = []
        var interrupted = false
        var events: [(Int, CallerListener.Event)] = []
        for frame in 0..<frames {
            let agentFrame: [Int16] =
                !interrupted && (frame + 1) * 160 <= agent.count
                ? Array(agent[(frame * 160)..<((frame + 1) * 160)]) : []
            if !agentFrame.isEmpty { listener.agentPlayed(MuLaw.encode(agentFrame)) }
            played.append(agentFrame)
            var line = (0..<160).map { index in
                frame * 160 + index < caller.count ? Double(caller[frame * 160 + index]) : 0
            }
            if frame >= 6, !played[frame - 6].isEmpty {
                for index in 0..<160 { line[index] += Double(played[frame - 6][index]) * 0.1 }
            }
            let speaking = !interrupted && frame * 160 < agent.count + 15 * 160
            let event = listener.listen(MuLaw.encode(line.map { Int16(clamping: Int($0)) }), agentSpeaking: speaking)
                .event
            if let event {
                events.append((frame, event))
                if case .started = event, speaking { interrupted = true }
            }
        }
        return events
    }

    @Test("a caller speaking to a quiet agent is heard from the first syllable, and their turn ends once")
    func quietAgent() throws {
        let speech = try Self.samples("en-booking")
        let events = Self.play(agent: [], caller: [Int16](repeating: 0, count: 4000) + speech)
        #expect(events.count == 2, "\(events)")
        guard events.count == 2, case .started(let framesAgo) = events[0].event else { return }
        // The speech starts at frame 25 with an unvoiced "h"; it counts within 160 ms of that,
        // dated back to the voiced onset (the call sends ten frames more before it to the recognizer).
        #expect((25...33).contains(events[0].frame))
        #expect((25...30).contains(events[0].frame - framesAgo))
        #expect(events[1].event == .ended)
    }

    @Test("the agent's own echo, a long sentence of it, never interrupts the agent")
    func echoAlone() throws {
        let agent = try Self.samples("es-booking", gain: 2) + Self.samples("en-booking", gain: 2)
        let events = Self.play(agent: agent, caller: [])
        #expect(!events.contains { if case .started = $0.event { true } else { false } }, "\(events)")
    }

    @Test("without the canceller and the barge-in rule, the same echo cuts the agent off (the old path)")
    func echoAloneUnprocessed() throws {
        let agent = try Self.samples("es-booking", gain: 2) + Self.samples("en-booking", gain: 2)
        let events = Self.play(agent: agent, caller: [], settings: .unprocessed)
        #expect(events.contains { if case .started = $0.event { true } else { false } })
    }

    @Test("a plate dropped while the agent speaks is ignored; a sentence over the agent interrupts it within a second")
    func clatterThenSentence() throws {
        let agent = try Self.samples("es-booking", gain: 2) + Self.samples("en-booking", gain: 2)
        var caller = [Int16](repeating: 0, count: 8000) + Self.clatter(peak: 12_000)
        caller += [Int16](repeating: 0, count: 12_000 - caller.count)
        let speechStartFrame = caller.count / 160
        caller += try Self.samples("en-name")
        let events = Self.play(agent: agent, caller: caller)
        let starts = events.filter { if case .started = $0.event { true } else { false } }
        #expect(starts.count == 1, "\(events)")
        guard let start = starts.first, case .started(let framesAgo) = start.event else { return }
        // Not before 300 ms of the caller's speech, and within a second: early in the call, before the
        // canceller has learnt the echo, only speech close to the agent's own level counts.
        #expect(start.frame >= speechStartFrame + 15)
        #expect(start.frame <= speechStartFrame + 50)
        // The utterance is dated back to its onset, so the recognizer hears it from the start.
        #expect(abs(start.frame - framesAgo - speechStartFrame) <= 3)
    }

    @Test(
        "voices across the room over the agent are no interruption, the caller's own voice is; a quiet caller once heard"
    )
    func roomVoicesAndCaller() throws {
        let agent = try Self.samples("es-booking", gain: 2) + Self.samples("en-booking", gain: 2)
        // The fixtures speak at about -20 dBFS: a voice 20 dB down is someone at the next table. It
        // comes 3.5 s into the agent's sentence, once the canceller has learnt the echo.
        let room = [Int16](repeating: 0, count: 28_000) + (try Self.samples("en-name", gain: 0.1))
        let roomEvents = Self.play(agent: agent, caller: room)
        #expect(!roomEvents.contains { if case .started = $0.event { true } else { false } }, "\(roomEvents)")
        let caller = [Int16](repeating: 0, count: 28_000) + (try Self.samples("en-name"))
        #expect(
            Self.play(agent: agent, caller: caller).filter { if case .started = $0.event { true } else { false } }.count
                == 1)
        // Without the rule the same room voice cuts the agent off.
        var anyLevel = CallerListener.Settings()
        anyLevel.bargeInBelowCallerDecibels = nil
        #expect(
            Self.play(agent: agent, caller: room, settings: anyLevel).contains {
                if case .started = $0.event { true } else { false }
            })

        // A caller on a quiet line (the same voice 20 dB down) whose words were heard once is
        // measured against their own level from then on, and interrupts like anyone else.
        let listener = CallerListener()
        let quiet = try Self.samples("en-name", gain: 0.1)
        var frames = (0..<25).map { _ in [Int16](repeating: 0, count: 160) }
        frames += stride(from: 0, to: quiet.count - 160, by: 160).map { Array(quiet[$0..<$0 + 160]) }
        frames += (0..<40).map { _ in [Int16](repeating: 0, count: 160) }
        var turn: [CallerListener.Event] = []
        for frame in frames {
            if let event = listener.listen(MuLaw.encode(frame), agentSpeaking: false).event { turn.append(event) }
        }
        #expect(turn.count == 2, "\(turn)")
        #expect(turn.last == .ended)
        let later = (0..<175).map { _ in [Int16](repeating: 0, count: 160) } + frames.dropFirst(25)
        func interruptions(_ listener: CallerListener) -> Int {
            var count = 0
            for (index, frame) in later.enumerated() where (index + 1) * 160 <= agent.count {
                listener.agentPlayed(MuLaw.encode(Array(agent[(index * 160)..<(index * 160 + 160)])))
                if case .started = listener.listen(MuLaw.encode(frame), agentSpeaking: true).event { count += 1 }
            }
            return count
        }
        // Until the recognizer says the utterance had words, the quiet voice is taken for the room.
        let unconfirmed = CallerListener()
        for frame in frames { _ = unconfirmed.listen(MuLaw.encode(frame), agentSpeaking: false) }
        #expect(interruptions(unconfirmed) == 0)
        listener.lastUtteranceWasWords()
        #expect(interruptions(listener) == 1)
    }

    @Test("a frame of the wrong size passes through the cleaner unchanged")
    func oddFrame() throws {
        let cleaner = try CallerAudioCleaner()
        let frame: [UInt8] = [1, 2, 3]
        #expect(cleaner.clean(frame) == frame)
    }

    @Test("after the first seconds of the call the canceller takes the echo down by more than 20 dB")
    func echoCancelled() throws {
        let cleaner = try CallerAudioCleaner()
        let agent =
            try Self.samples("en-booking", gain: 2) + Self.samples("es-booking", gain: 2)
            + Self.samples("en-booking", gain: 2)
        let frames = agent.count / 160
        var echoLevels: [Double] = []
        var cleanedLevels: [Double] = []
        for frame in 0..<frames {
            let played = Array(agent[(frame * 160)..<((frame + 1) * 160)])
            cleaner.agentPlayed(samples: MuLaw.decode(MuLaw.encode(played)))
            let echo: [Int16] =
                frame >= 6 ? agent[((frame - 6) * 160)..<((frame - 5) * 160)].map { Int16(Double($0) * 0.1) } : []
            let line = echo.isEmpty ? [Int16](repeating: 0, count: 160) : echo
            let cleaned = cleaner.clean(MuLaw.encode(line))
            // The last sentence, once the canceller has heard two.
            if frame >= frames * 2 / 3 {
                echoLevels.append(Self.power(line))
                cleanedLevels.append(Self.power(MuLaw.decode(cleaned)))
            }
        }
        let reduction = 10 * log10(echoLevels.reduce(0, +) / max(cleanedLevels.reduce(0, +), 1e-9))
        #expect(reduction > 20, "echo reduced by \(reduction) dB")
    }

    static func power(_ samples: [Int16]) -> Double {
        samples.reduce(0.0) { $0 + Double($1) * Double($1) }
    }
}
