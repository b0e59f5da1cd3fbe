import AsyncHandoff
import AudioIO
import Dispatch
import Foundation
import LocalStore
public import Logging
public import Sync
import Synchronization

/// `edge-agent talk`: a whole conversation with the agent through the box's own headset, so a
/// technician or a manager can try it on site with no phone line. It is a call like any other (the
/// same ``CallSession``, tools and store), recorded with `source = 'local'`: the microphone stands in
/// for Twilio's inbound media (20 ms mu-law frames at 8 kHz), the speaker plays what the agent sends,
/// and a mark is given back once the audio before it has been handed to the speaker, as Twilio does
/// when it has played.
public struct LocalConversation: Sendable {
    let services: CallServices
    let playbackDevice: String
    let captureDevice: String
    let longest: Duration
    let logger: Logger

    /// - Parameter longest: the conversation ends after this long whatever happens.
    public init(
        services: CallServices, playbackDevice: String, captureDevice: String, longest: Duration = .seconds(600),
        logger: Logger
    ) {
        var services = services
        // A call on the box's headset has no Twilio leg to transfer.
        services.canTransfer = false
        self.services = services
        self.playbackDevice = playbackDevice
        self.captureDevice = captureDevice
        self.longest = longest
        self.logger = logger
    }

    /// Talks until the agent hangs up, `stop` is opened (Ctrl-C), a device fails or ``longest`` has
    /// passed; returns the call's row.
    public func run(stop: LocalConversationStop = LocalConversationStop()) async throws -> Call {
        let speaker = try await SpeakerLine.open(device: playbackDevice)
        let (frames, framesIn) = AsyncStream.makeStream(of: [UInt8].self)
        let microphone = try await MicrophoneLine.open(device: captureDevice, frames: framesIn, stop: stop)
        let call = try await services.calls.recordLocal()
        let started = ContinuousClock.now
        let session = CallSession(
            call: call, streamSid: "local", services: services, logger: logger,
            send: { message in speaker.handle(message) }, hangUp: { stop.open() })
        speaker.onMark = { name in Task { await session.receive(.mark(name: name)) } }
        await session.begin()
        microphone.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var chunk = 0
                for await frame in frames {
                    chunk += 1
                    await session.receive(
                        .media(.init(track: "inbound", chunk: chunk, timestamp: chunk * 20, payload: frame)))
                }
            }
            group.addTask {
                try? await Task.sleep(for: longest)
                stop.open()
            }
            await stop.wait()
            microphone.finish()
            group.cancelAll()
        }
        await session.end(reason: stop.reason ?? "the local conversation ended")
        speaker.finish()
        let seconds = Int(started.duration(to: .now).components.seconds)
        try await services.calls.endLocal(callID: call.id, durationSeconds: seconds)
        return try await services.calls.call(id: call.id) ?? call
    }
}

/// Ends a local conversation from anywhere (the agent's hang-up, Ctrl-C, a device that failed).
public final class LocalConversationStop: Sendable {
    private let stopped = Gate()
    private let firstReason = Mutex<String?>(nil)

    public init() {}

    /// Ends the conversation (the first reason given is kept).
    public func open(reason: String? = nil) {
        firstReason.withLock { if $0 == nil { $0 = reason } }
        stopped.open()
    }

    var reason: String? { firstReason.withLock { $0 } }

    func wait() async { await stopped.wait() }
}

/// The headset's speaker: what the agent sends is played in order on a queue of its own, a mark is
/// given back once the audio before it has been written, and `clear` drops what is still queued.
///
/// `@unchecked Sendable` is sound: `pcm` is only touched by blocks on the serial `queue` (the
/// initializer runs there too), and the other state is behind `Mutex`es.
final class SpeakerLine: @unchecked Sendable {
    private let queue = DispatchQueue(label: "edge-agent.speaker")
    private var pcm: ALSAPCM?
    /// Bumped by `clear`: blocks queued under an older generation play nothing.
    private let generation = Mutex(0)
    private let pendingMarks = Mutex<[String]>([])
    private let markHandler = Mutex<(@Sendable (String) -> Void)?>(nil)

    var onMark: (@Sendable (String) -> Void)? {
        get { markHandler.withLock { $0 } }
        set { markHandler.withLock { $0 = newValue } }
    }

    private init() {}

    static func open(device: String) async throws -> SpeakerLine {
        let line = SpeakerLine()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            line.queue.async {
                do {
                    line.pcm = try ALSAPCM(device: device, direction: .playback)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        return line
    }

    func handle(_ message: MediaStreamOutbound) {
        switch message {
        case .media(let bytes):
            let current = generation.withLock { $0 }
            queue.async { [self] in
                guard generation.withLock({ $0 }) == current else { return }
                try? pcm?.write(MuLaw.decode(bytes))
            }
        case .mark(let name):
            pendingMarks.withLock { $0.append(name) }
            let current = generation.withLock { $0 }
            queue.async { [self] in
                guard generation.withLock({ $0 }) == current else { return }
                giveBack(name)
            }
        case .clear:
            // As Twilio does: what is queued is dropped, and every pending mark comes back.
            generation.withLock { $0 += 1 }
            let marks = pendingMarks.withLock { marks in
                defer { marks = [] }
                return marks
            }
            for name in marks { onMark?(name) }
        }
    }

    private func giveBack(_ name: String) {
        let pending = pendingMarks.withLock { marks in
            guard let index = marks.firstIndex(of: name) else { return false }
            marks.remove(at: index)
            return true
        }
        if pending { onMark?(name) }
    }

    /// Plays out what is queued and closes the device.
    func finish() {
        queue.sync {
            pcm?.drain()
            pcm = nil
        }
    }
}

/// The headset's microphone, read 20 ms at a time on a thread of its own and handed on as mu-law
/// frames. A device that gives its samples faster than real time (a file) is held to real time.
///
/// `@unchecked Sendable` is sound: `pcm` is only touched on the serial `queue`, and `running` is a
/// `Mutex`.
final class MicrophoneLine: @unchecked Sendable {
    private let queue = DispatchQueue(label: "edge-agent.microphone")
    private var pcm: ALSAPCM?
    private let running = Mutex(true)
    private let frames: AsyncStream<[UInt8]>.Continuation
    private let stop: LocalConversationStop

    private init(frames: AsyncStream<[UInt8]>.Continuation, stop: LocalConversationStop) {
        self.frames = frames
        self.stop = stop
    }

    static func open(device: String, frames: AsyncStream<[UInt8]>.Continuation, stop: LocalConversationStop)
        async throws -> MicrophoneLine
    {
        let line = MicrophoneLine(frames: frames, stop: stop)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            line.queue.async {
                do {
                    line.pcm = try ALSAPCM(device: device, direction: .capture)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        return line
    }

    func start() {
        queue.async { [self] in
            let clock = ContinuousClock()
            var next = clock.now
            while running.withLock({ $0 }), let pcm {
                do {
                    let samples = try pcm.read(TelephoneAudio.samplesPerFrame)
                    guard samples.count == TelephoneAudio.samplesPerFrame else { break }
                    frames.yield(MuLaw.encode(samples))
                } catch {
                    stop.open(reason: "the microphone failed: \(error)")
                    break
                }
                next = next + .milliseconds(TelephoneAudio.frameMilliseconds)
                let wait = clock.now.duration(to: next)
                if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
            }
            frames.finish()
            self.pcm = nil
        }
    }

    func finish() {
        running.withLock { $0 = false }
    }
}
