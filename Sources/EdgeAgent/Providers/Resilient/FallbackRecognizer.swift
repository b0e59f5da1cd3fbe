import CoreMetrics
public import Logging
public import Resilience
import Synchronization

/// A recognizer behind its ``Upstream``: starting an utterance (Deepgram's socket) and finishing it
/// (the transcription request) are bounded by its timeout and circuit.
public struct GuardedRecognizer: SpeechRecognizer {
    let base: any SpeechRecognizer
    let upstream: Upstream

    public init(_ base: any SpeechRecognizer, upstream: Upstream) {
        self.base = base
        self.upstream = upstream
    }

    public func startUtterance(languageHint: String?) async throws -> any UtteranceRecognition {
        let inner = try await upstream.run(classify: Upstreams.classify) {
            try await base.startUtterance(languageHint: languageHint)
        }
        return Recognition(inner: inner, upstream: upstream)
    }

    struct Recognition: UtteranceRecognition {
        let inner: any UtteranceRecognition
        let upstream: Upstream

        func send(_ audio: [UInt8]) async { await inner.send(audio) }
        func finish() async throws -> Transcript {
            try await upstream.run(classify: Upstreams.classify) { try await inner.finish() }
        }
        func cancel() async { await inner.cancel() }
    }
}

/// The speech-to-text chain: Deepgram, then the OpenAI-compatible transcription endpoint. The
/// utterance's audio is kept while it is recognised, so when the first recognizer fails, at the start
/// or at the end, the second one hears the whole utterance. When both fail, the error reaches the
/// call, which moves to the keypad flow.
public struct FallbackRecognizer: SpeechRecognizer {
    let chain: [(name: String, recognizer: any SpeechRecognizer)]
    let logger: Logger
    let fallbacks: CoreMetrics.Counter

    /// - Parameter chain: the recognizers in order of preference, with their names for logs.
    public init(chain: [(name: String, recognizer: any SpeechRecognizer)], metrics: AgentMetrics, logger: Logger) {
        precondition(!chain.isEmpty, "a speech-to-text chain needs a recognizer")
        self.chain = chain
        self.logger = logger
        fallbacks = CoreMetrics.Counter(label: "edge_stt_fallbacks_total", factory: metrics.factory)
    }

    public func startUtterance(languageHint: String?) async throws -> any UtteranceRecognition {
        let recognition = Recognition(chain: self, languageHint: languageHint)
        try await recognition.start(from: 0)
        return recognition
    }

    /// The longest utterance kept for a second recognizer (60 s of mu-law).
    static let maximumKeptBytes = 60 * 8000

    final class Recognition: UtteranceRecognition {
        private struct State {
            var active: (index: Int, recognition: any UtteranceRecognition)?
            var audio: [UInt8] = []
        }

        let chain: FallbackRecognizer
        let languageHint: String?
        private let state = Mutex(State())

        init(chain: FallbackRecognizer, languageHint: String?) {
            self.chain = chain
            self.languageHint = languageHint
        }

        /// Starts the first recognizer from `index` on that accepts the utterance, and gives it the
        /// audio so far.
        func start(from index: Int) async throws {
            var lastError: (any Error)?
            for position in index..<chain.chain.count {
                let link = chain.chain[position]
                do {
                    let recognition = try await link.recognizer.startUtterance(languageHint: languageHint)
                    let audio = state.withLock { state in
                        state.active = (position, recognition)
                        return state.audio
                    }
                    if !audio.isEmpty { await recognition.send(audio) }
                    return
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    lastError = error
                    if position + 1 < chain.chain.count {
                        chain.logger.warning(
                            "speech-to-text failed; trying the next recognizer",
                            metadata: ["stt.provider": .string(link.name), "error": "\(error)"])
                        chain.fallbacks.increment()
                    }
                }
            }
            throw lastError ?? SpeechRecognitionError(status: nil, message: "no recognizer")
        }

        func send(_ audio: [UInt8]) async {
            let active = state.withLock { state in
                if state.audio.count + audio.count <= FallbackRecognizer.maximumKeptBytes {
                    state.audio += audio
                }
                return state.active?.recognition
            }
            await active?.send(audio)
        }

        func finish() async throws -> Transcript {
            while true {
                guard let active = state.withLock({ $0.active }) else {
                    throw SpeechRecognitionError(status: nil, message: "no recognizer")
                }
                do {
                    return try await active.recognition.finish()
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    guard active.index + 1 < chain.chain.count else { throw error }
                    chain.logger.warning(
                        "speech-to-text failed; trying the next recognizer",
                        metadata: ["stt.provider": .string(chain.chain[active.index].name), "error": "\(error)"])
                    chain.fallbacks.increment()
                    await active.recognition.cancel()
                    try await start(from: active.index + 1)
                }
            }
        }

        func cancel() async {
            let active = state.withLock { state in
                defer { state.audio = [] }
                return state.active?.recognition
            }
            await active?.cancel()
        }
    }
}
