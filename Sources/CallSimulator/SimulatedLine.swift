import AudioIO
import EdgeAgent
import Foundation
import HummingbirdWSClient
import Synchronization

/// The Twilio end of one simulated Media Stream: sends the caller's side, plays the agent's side.
final class SimulatedLine: Sendable {
    struct State {
        var report = CallReport()
        /// When the audio Twilio has buffered will have finished playing.
        var playoutEnd = ContinuousClock.now
        /// Marks waiting for their audio to play, with when that will be and how many media messages
        /// came before them.
        var pendingMarks: [(name: String, due: ContinuousClock.Instant, mediaBefore: Int)] = []
        /// Media messages received from the agent.
        var mediaMessages = 0
        /// The media messages the agent has been told have played (an echoed mark after them) or
        /// dropped (its own clear), and when it was told.
        var toldPlayed: (mediaMessages: Int, at: ContinuousClock.Instant)?
        var lastAgentFrame: ContinuousClock.Instant?
        var callerSpeechEnded: ContinuousClock.Instant?
        var agentFramesSinceStep = 0
        var closed = false
        var hungUpByAgent = false
        var callerHungUp = false
        /// When each piece of agent audio plays at the caller's end (cut short by `clear`).
        var playback: [(start: ContinuousClock.Instant, end: ContinuousClock.Instant)] = []
        /// Network jitter: a message plays no sooner than this long after it was sent.
        var jitter = JitterSource(maximum: .zero, seed: 0)

        /// Whether the agent had been told, at least ``echoCrossing`` before `now`, that all of its
        /// audio had played: a clear after that judged as unheard what the agent knew was heard.
        func hasToldAllPlayed(before now: ContinuousClock.Instant) -> Bool {
            guard let toldPlayed else { return mediaMessages == 0 }
            return toldPlayed.mediaMessages == mediaMessages && toldPlayed.at.duration(to: now) >= Self.echoCrossing
        }

        /// A clear that crossed a mark's echo is not the agent's mistake: it sent the clear before it
        /// could know (it hears the caller's frame that counted as an interruption before the echo
        /// sent after that frame, and a busy machine may take a while over both). A mistake, an
        /// agent clearing what it was told had played, shows up long after this.
        static let echoCrossing = Duration.milliseconds(200)

        /// Seconds of agent audio heard at the caller's end between `start` and `now`.
        func played(since start: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Duration {
            playback.reduce(.zero) { total, piece in
                let from = max(piece.start, start)
                let to = min(piece.end, now)
                return from < to ? total + from.duration(to: to) : total
            }
        }
    }

    let callSid: String
    let streamSid = "MZ" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let parameters: [String: String]
    let script: CallScript
    let state = Mutex(State())

    init(callSid: String, parameters: [String: String], script: CallScript, jitter: Duration = .zero) {
        self.callSid = callSid
        self.parameters = parameters
        self.script = script
        let seed = callSid.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        state.withLock { $0.jitter = JitterSource(maximum: jitter, seed: seed) }
    }

    var report: CallReport { state.withLock { $0.report } }
    var hungUpByAgent: Bool { state.withLock { $0.hungUpByAgent } }
    var callerHungUp: Bool { state.withLock { $0.callerHungUp } }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        try await outbound.write(.text(#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#))
        let custom = parameters.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        try await outbound.write(
            .text(
                #"{"event":"start","sequenceNumber":"1","streamSid":"\#(streamSid)","start":{"accountSid":"AC00000000000000000000000000000001","streamSid":"\#(streamSid)","callSid":"\#(callSid)","tracks":["inbound"],"customParameters":{\#(custom)},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#
            ))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.receive(inbound) }
            try await self.perform(outbound)
            group.cancelAll()
        }
    }

    /// The agent's messages: audio into the playout buffer, marks queued behind it, clear empties it.
    private func receive(_ inbound: WebSocketInboundStream) async throws {
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message,
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let event = object["event"] as? String
            else { continue }
            let now = ContinuousClock.now
            state.withLock { state in
                switch event {
                case "media":
                    let payload = ((object["media"] as? [String: Any])?["payload"] as? String).flatMap {
                        Data(base64Encoded: $0)
                    }
                    let bytes = payload?.count ?? 0
                    state.report.agentAudioBytes += bytes
                    state.mediaMessages += 1
                    // Twilio plays what it has at 8 kHz from the first byte; a message delayed by the
                    // network cannot play before it arrives.
                    let start = max(state.playoutEnd, now + state.jitter.next())
                    state.playoutEnd = start + .microseconds(bytes * 125)
                    state.playback.append((start, state.playoutEnd))
                    if let ended = state.callerSpeechEnded {
                        state.report.responseLatencies.append(ended.duration(to: now))
                        state.callerSpeechEnded = nil
                    }
                    if let last = state.lastAgentFrame, last.duration(to: now) < .milliseconds(100) {
                        let interval = last.duration(to: now)
                        state.report.pacingErrors.append(
                            interval > .milliseconds(20) ? interval - .milliseconds(20) : .milliseconds(20) - interval)
                    }
                    state.lastAgentFrame = now
                    state.agentFramesSinceStep += 1
                case "mark":
                    if let name = (object["mark"] as? [String: Any])?["name"] as? String {
                        state.report.marksSent += 1
                        state.pendingMarks.append((name, max(state.playoutEnd, now), state.mediaMessages))
                    }
                case "clear":
                    state.report.clears += 1
                    if state.playoutEnd <= now && state.hasToldAllPlayed(before: now) {
                        state.report.clearsOfNothing += 1
                    }
                    state.toldPlayed = (state.mediaMessages, now)
                    state.playoutEnd = now
                    state.playback = state.playback.compactMap { piece in
                        piece.start < now ? (piece.start, min(piece.end, now)) : nil
                    }
                    state.pendingMarks = state.pendingMarks.map { ($0.name, now, $0.mediaBefore) }
                default:
                    break
                }
            }
        }
        state.withLock { state in
            if !state.callerHungUp { state.hungUpByAgent = true }
            state.closed = true
        }
    }

    /// Echoes each mark whose audio has played by now. Called every 20 ms by the sending loop, so
    /// echoes come within a frame of when Twilio would send them.
    private func echoDueMarks(_ outbound: WebSocketOutboundWriter) async {
        let now = ContinuousClock.now
        let due = state.withLock { state -> [String] in
            let due = state.pendingMarks.filter { $0.due <= now }
            state.pendingMarks.removeAll { $0.due <= now }
            // Marks given back by a clear already count as told (by the clear, with all before it).
            if let last = due.last, last.mediaBefore > state.toldPlayed?.mediaMessages ?? -1 {
                state.toldPlayed = (last.mediaBefore, now)
            }
            state.report.marksEchoed += due.count
            return due.map(\.name)
        }
        for name in due {
            try? await outbound.write(
                .text(#"{"event":"mark","streamSid":"\#(streamSid)","sequenceNumber":"0","mark":{"name":"\#(name)"}}"#))
        }
    }

    /// The caller's side, paced like Twilio: one 20 ms media message every 20 ms, silence when quiet.
    private func perform(_ outbound: WebSocketOutboundWriter) async throws {
        let clock = ContinuousClock()
        var next = clock.now
        var chunk = 0
        func sendFrame(_ frame: [UInt8]) async throws -> Bool {
            if state.withLock({ $0.closed }) { return false }
            try await clock.sleep(until: next)
            next = next + .milliseconds(20)
            chunk += 1
            let message =
                #"{"event":"media","sequenceNumber":"\#(chunk + 1)","streamSid":"\#(streamSid)","media":{"track":"inbound","chunk":"\#(chunk)","timestamp":"\#(chunk * 20)","payload":"\#(Data(frame).base64EncodedString())"}}"#
            do {
                try await outbound.write(.text(message))
            } catch {
                return false
            }
            await echoDueMarks(outbound)
            return true
        }
        let silence = [UInt8](repeating: MuLaw.silence, count: TelephoneAudio.samplesPerFrame)
        /// Listens (sending silence) until the agent has spoken and then been quiet for `quiet`.
        func waitForAgent(timeout: Duration, quiet: Duration) async throws {
            let end = clock.now + timeout
            while true {
                guard try await sendFrame(silence) else { return }
                let (heard, isQuiet, marks) = state.withLock { state in
                    (
                        state.agentFramesSinceStep > 0,
                        state.lastAgentFrame.map { $0.duration(to: .now) > quiet } ?? false,
                        state.pendingMarks.isEmpty
                    )
                }
                if heard && isQuiet && marks { break }
                if clock.now >= end {
                    state.withLock { $0.report.timeouts += 1 }
                    break
                }
            }
            state.withLock { $0.agentFramesSinceStep = 0 }
        }
        for step in script.steps {
            switch step {
            case .say(let audio):
                state.withLock { $0.agentFramesSinceStep = 0 }
                let frames = MuLawFrame.frames(from: audio)
                // The caller's speech ends with the last loud frame; what follows is silence.
                let lastLoud = frames.lastIndex { frame in frame.bytes.contains { abs(Int(MuLaw.decode($0))) > 1500 } }
                for (index, frame) in frames.enumerated() {
                    guard try await sendFrame(frame.bytes) else { return }
                    if index == lastLoud ?? frames.count - 1 { state.withLock { $0.callerSpeechEnded = clock.now } }
                }
                // What the agent said while the caller spoke was not the answer to it.
                state.withLock { $0.agentFramesSinceStep = 0 }
            case .press(let digit):
                state.withLock {
                    $0.agentFramesSinceStep = 0
                    $0.callerSpeechEnded = clock.now
                }
                try await outbound.write(
                    .text(
                        #"{"event":"dtmf","streamSid":"\#(streamSid)","sequenceNumber":"0","dtmf":{"track":"inbound_track","digit":"\#(digit)"}}"#
                    ))
            case .pause(let duration):
                let end = clock.now + duration
                while clock.now < end { guard try await sendFrame(silence) else { return } }
            case .waitForAgent(let timeout):
                try await waitForAgent(timeout: timeout, quiet: .milliseconds(600))
            case .waitForAgentQuiet(let timeout, let quiet):
                try await waitForAgent(timeout: timeout, quiet: quiet)
            case .waitForPlayback(let timeout, let pause):
                let end = clock.now + timeout
                let stepStart = clock.now
                while true {
                    guard try await sendFrame(silence) else { return }
                    let now = clock.now
                    let done = state.withLock { state in
                        state.played(since: stepStart, now: now) > .zero && state.pendingMarks.isEmpty
                            && state.playoutEnd + pause <= now
                    }
                    if done { break }
                    if now >= end {
                        state.withLock { $0.report.timeouts += 1 }
                        break
                    }
                }
                state.withLock { $0.agentFramesSinceStep = 0 }
            case .waitForAgentAudio(let played, let timeout):
                let end = clock.now + timeout
                let stepStart = clock.now
                while state.withLock({ $0.played(since: stepStart, now: clock.now) }) < played {
                    guard try await sendFrame(silence) else { return }
                    if clock.now >= end {
                        state.withLock { $0.report.timeouts += 1 }
                        break
                    }
                }
            case .waitUntil(let timeout, let condition):
                let end = clock.now + timeout
                while await !condition() {
                    guard try await sendFrame(silence) else { return }
                    if clock.now >= end {
                        state.withLock { $0.report.timeouts += 1 }
                        break
                    }
                }
                state.withLock { $0.agentFramesSinceStep = 0 }
            case .freeze(let duration):
                try await clock.sleep(for: duration)
                next = clock.now
            case .hangUp:
                state.withLock { $0.callerHungUp = true }
                try? await outbound.write(
                    .text(
                        #"{"event":"stop","sequenceNumber":"0","streamSid":"\#(streamSid)","stop":{"accountSid":"AC00000000000000000000000000000001","callSid":"\#(callSid)"}}"#
                    ))
                try? await outbound.close(.normalClosure, reason: "caller hung up")
                return
            }
        }
    }
}

/// Random network delays from a fixed seed, so a jittery run can be repeated exactly.
struct JitterSource: Sendable {
    let maximum: Duration
    private var state: UInt64

    init(maximum: Duration, seed: UInt64) {
        self.maximum = maximum
        self.state = seed | 1
    }

    /// The next delay, from zero to ``maximum``.
    mutating func next() -> Duration {
        guard maximum > .zero else { return .zero }
        // xorshift64*
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        let value = state &* 2_685_821_657_736_338_717
        return maximum * (Double(value >> 11) / Double(1 << 53))
    }
}
