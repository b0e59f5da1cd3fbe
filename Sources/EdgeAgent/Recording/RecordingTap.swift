import CallRecording
import Foundation
import Logging

/// Feeds a call's audio to its recorder in order, off the call's path: frames are queued with a
/// synchronous yield and written by the recorder on its own queue.
final class RecordingTap: Sendable {
    enum Input: Sendable {
        case caller([UInt8], milliseconds: Int)
        case agent([UInt8], ContinuousClock.Instant)
    }

    let id: String
    let recorder: CallRecorder
    /// The stream time (ms) at which recording started; caller timestamps count from it.
    let offsetMilliseconds: Int
    private let inputs: AsyncStream<Input>.Continuation
    private let feeder: Task<Void, Never>

    init(id: String, recorder: CallRecorder, offsetMilliseconds: Int) {
        self.id = id
        self.recorder = recorder
        self.offsetMilliseconds = offsetMilliseconds
        let (stream, continuation) = AsyncStream.makeStream(of: Input.self)
        inputs = continuation
        feeder = Task {
            for await input in stream {
                switch input {
                case .caller(let bytes, let milliseconds):
                    await recorder.caller(bytes, timestampMilliseconds: milliseconds)
                case .agent(let bytes, let instant):
                    await recorder.agent(bytes, at: instant)
                }
            }
        }
    }

    func caller(_ frame: [UInt8], streamMilliseconds: Int) {
        let milliseconds = streamMilliseconds - offsetMilliseconds
        guard milliseconds >= 0 else { return }
        inputs.yield(.caller(frame, milliseconds: milliseconds))
    }

    func agent(_ frame: [UInt8], at instant: ContinuousClock.Instant) {
        inputs.yield(.agent(frame, instant))
    }

    /// Writes what is queued, then closes the recording.
    func finish() async -> CallRecorder.Summary {
        inputs.finish()
        await feeder.value
        return await recorder.finish()
    }
}
