import AudioIO
import CEspeak
import Dispatch
public import Logging

/// The voice of last resort: espeak-ng (libespeak-ng) on the box, so a caller always hears an answer
/// when ElevenLabs is not configured, not reachable, or refuses. espeak-ng is not thread-safe, so every
/// synthesis runs on one serial queue of its own; the audio is resampled from espeak's rate to 8 kHz
/// with SpeexDSP and encoded to mu-law.
public final class LocalVoice: SpeechSynthesizer {
    /// espeak-ng could not start or speak.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The one thread espeak-ng runs on.
    private static let queue = DispatchQueue(label: "edge-agent.espeak")
    /// espeak's output rate once initialised. `nonisolated(unsafe)` is sound here: the only code that
    /// reads or writes it is `speak`, which runs only on the serial `queue` (checked by its
    /// `dispatchPrecondition`), so no two threads ever touch it at once.
    nonisolated(unsafe) private static var sampleRate: Int32 = 0

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func synthesize(_ text: String, language: String) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            Self.queue.async {
                do {
                    continuation.yield(try Self.speak(text, voice: language == "es" ? "es" : "en-us"))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    /// `text` spoken by espeak-ng voice `voice` (such as `en-us+f3`), as 8 kHz linear samples: for
    /// test audio (the noise benchmark's corpus), not for callers.
    public static func pcm(_ text: String, voice: String) async throws -> [Int16] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try Self.samples(text, voice: voice) })
            }
        }
    }

    /// Runs on `queue` only.
    private static func speak(_ text: String, voice: String) throws -> [UInt8] {
        MuLaw.encode(try samples(text, voice: voice))
    }

    /// Runs on `queue` only.
    private static func samples(_ text: String, voice: String) throws -> [Int16] {
        dispatchPrecondition(condition: .onQueue(queue))
        if sampleRate <= 0 {
            sampleRate = cespeak_initialize()
            guard sampleRate > 0 else {
                throw Failure(
                    description: "espeak-ng did not start; install espeak-ng-data (apt-get install espeak-ng)")
            }
        }
        var buffer = cespeak_buffer(samples: nil, count: 0, capacity: 0, failed: 0)
        defer { cespeak_release(&buffer) }
        let status = cespeak_speak(voice, text, &buffer)
        guard status == 0, let samples = buffer.samples else {
            throw Failure(description: "espeak-ng could not speak with voice \(voice) (\(status))")
        }
        let pcm = Array(UnsafeBufferPointer(start: samples, count: Int(buffer.count)))
        return try Resampler.resample(pcm, from: Int(sampleRate), to: TelephoneAudio.sampleRate)
    }
}
