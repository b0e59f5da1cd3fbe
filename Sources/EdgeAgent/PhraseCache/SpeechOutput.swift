import AudioIO
import CoreMetrics
import Foundation
public import Logging
import Synchronization

/// A sentence to speak, and what the speech chain needs to know about it.
public struct Utterance: Sendable, Equatable {
    public var text: String
    public var language: String
    /// Whether the text may be cached: false when it may carry personal data.
    public var cacheable: Bool
    /// Catalog phrases are pinned in the cache: the size budget never evicts them.
    public var pinned: Bool
    /// The catalog fragments the sentence is made of, in order, so it can be composed from cached
    /// audio in the same voice when the provider cannot speak it.
    public var fragments: [String]?
    /// Said because the caller is waiting (a hold line): from the cache or the local voice, never
    /// waiting for the cloud.
    public var urgent = false
    /// How the call wants it said (calmer for an upset caller, slower when asked), from the voice's
    /// own settings. A sentence cached only in the voice's usual delivery is still played from the
    /// cache: the caller does not wait for the cloud to say a cached line a little more calmly.
    public var delivery = VoiceStyle.Delivery.usual

    public init(
        _ text: String, language: String, cacheable: Bool = true, pinned: Bool = false, fragments: [String]? = nil
    ) {
        self.text = text
        self.language = language
        self.cacheable = cacheable
        self.pinned = pinned
        self.fragments = fragments
    }
}

/// Everything the agent says goes through this chain, so a caller always hears an answer:
/// memory cache, disk cache, the provider (ElevenLabs, behind its circuit breaker), the sentence
/// composed from cached fragments in the same voice, and the local voice (espeak-ng) as the last
/// resort. Each fallback is logged and counted.
public final class SpeechOutput: Sendable {
    /// The cloud voice and the identity of each language's voice in it.
    public struct Provider: Sendable {
        public let synthesizer: any SpeechSynthesizer
        public let voices: [String: VoiceIdentity]
        /// The longest text the provider takes in one request; longer text is split at sentence ends.
        public let maxCharacters: Int
        /// Each voice's own settings, by voice id, when configured (`tts.voices_en`); the standard ones
        /// otherwise.
        public let settings: [String: VoiceStyle]

        public init(
            synthesizer: any SpeechSynthesizer, voices: [String: VoiceIdentity], maxCharacters: Int,
            settings: [String: VoiceStyle] = [:]
        ) {
            self.synthesizer = synthesizer
            self.voices = voices
            self.maxCharacters = max(maxCharacters, 20)
            self.settings = settings
        }
    }

    let provider: Provider?
    let cache: PhraseCache?
    /// The voice staff chose per language, when not the configured one.
    let selection: VoiceSelection?
    let localVoice: any SpeechSynthesizer
    /// The local voice's audio of sentences that may be cached (never personal data), by language and
    /// text. espeak-ng speaks one sentence at a time for the whole process, so a hold line rendered only
    /// when the caller is already waiting would wait behind every other call's synthesis.
    let localAudio = MemoryPhraseTier(capacityBytes: 8 << 20)
    /// Lines being prepared now, so that calls starting together render each line once.
    private let preparing = Mutex<Set<String>>([])
    let logger: Logger
    private let composed: CoreMetrics.Counter
    private let localFallbacks: CoreMetrics.Counter

    public init(
        provider: Provider?, cache: PhraseCache?, localVoice: any SpeechSynthesizer, metrics: AgentMetrics,
        logger: Logger, selection: VoiceSelection? = nil
    ) {
        self.selection = selection
        self.provider = provider
        self.cache = cache
        self.localVoice = localVoice
        self.logger = logger
        composed = CoreMetrics.Counter(label: "edge_tts_composed_fallbacks_total", factory: metrics.factory)
        localFallbacks = metrics.localVoiceFallbacks
    }

    /// The key `text` is cached under in `style`, when the cloud voice is configured for its language.
    public func key(for text: String, language: String, style: VoiceStyle) -> PhraseKey? {
        guard let voice = provider?.voices[language] else { return nil }
        return PhraseKey(text: text, language: language, voice: voice.styled(style))
    }

    /// The key `text` is cached under when spoken as `delivery` by the language's voice now in use.
    public func key(for text: String, language: String, delivery: VoiceStyle.Delivery = .usual) -> PhraseKey? {
        key(for: text, language: language, style: style(delivery, language: language))
    }

    /// What the provider is asked for: `voice` (nil: the language's configured one) with its own
    /// settings, delivered as asked. The configured voice is named by no style, so its keys stay those
    /// it had before voices could be chosen.
    public func style(
        _ delivery: VoiceStyle.Delivery, language: String, voice: String? = nil
    ) -> VoiceStyle {
        let chosen = voice ?? selection?.voice(for: language)
        let id = chosen ?? provider?.voices[language]?.voice
        let settings = id.flatMap { provider?.settings[$0] } ?? .standard
        return settings.delivered(delivery).spoken(by: chosen)
    }

    /// The cached audio of `utterance`: as delivered, else in the voice's usual delivery.
    private func cachedAudio(_ utterance: Utterance) -> [UInt8]? {
        guard utterance.cacheable, let cache else { return nil }
        let deliveries: [VoiceStyle.Delivery] =
            utterance.delivery == .usual ? [.usual] : [utterance.delivery, .usual]
        for delivery in deliveries {
            if let key = key(for: utterance.text, language: utterance.language, delivery: delivery),
                let hit = cache.cached(key)
            {
                return hit.audio
            }
        }
        return nil
    }

    /// Streams the audio of `utterance`, from the first link of the chain that can speak it.
    public func speak(_ utterance: Utterance) -> AsyncThrowingStream<[UInt8], any Error> {
        // Cache hits are answered at once, without a task.
        if let audio = cachedAudio(utterance) {
            return .just(audio)
        }
        return .producing { emit in try await self.produce(utterance, emit: emit) }
    }

    private func produce(_ utterance: Utterance, emit: @escaping @Sendable ([UInt8]) -> Void) async throws {
        if let provider, provider.voices[utterance.language] != nil, !utterance.urgent {
            // Less than a frame is never played (the session sends whole frames), so until a frame has
            // gone out the sentence can still be spoken whole by the next link.
            var producedBytes = 0
            do {
                for piece in Self.pieces(of: utterance.text, limit: provider.maxCharacters) {
                    for try await chunk in providerAudio(piece, utterance: utterance, provider: provider) {
                        producedBytes += chunk.count
                        emit(chunk)
                    }
                }
                return
            } catch let error
                where producedBytes >= TelephoneAudio.samplesPerFrame || error is CancellationError
            {
                throw error
            } catch {
                logger.warning(
                    "the cloud voice failed; falling back", metadata: ["error": "\(error)"])
            }
        }
        try Task.checkCancellation()
        if let audio = composedAudio(utterance) {
            composed.increment()
            logger.info("spoke a sentence composed from cached fragments")
            emit(audio)
            return
        }
        if provider != nil { localFallbacks.increment() }
        for try await chunk in localVoiceAudio(utterance) { emit(chunk) }
    }

    /// The local voice speaking `utterance`: from memory when it was spoken (or prepared) before.
    private func localVoiceAudio(_ utterance: Utterance) -> AsyncThrowingStream<[UInt8], any Error> {
        guard utterance.cacheable else { return localVoice.synthesize(utterance.text, language: utterance.language) }
        let key = Self.localAudioKey(utterance)
        if let audio = localAudio.audio(key) { return .just(audio) }
        return .producing { emit in
            var audio: [UInt8] = []
            for try await chunk in self.localVoice.synthesize(utterance.text, language: utterance.language) {
                audio += chunk
                emit(chunk)
            }
            // A cancelled stream ends without an error: what it holds then is a cut-off sentence.
            guard !Task.isCancelled, !audio.isEmpty else { return }
            self.localAudio.insert(key, audio: audio)
        }
    }

    private static func localAudioKey(_ utterance: Utterance) -> String {
        utterance.language + "\u{1F}" + PhraseKey.normalise(utterance.text)
    }

    /// Renders `utterances` with the local voice ahead of need, when the cache does not hold them, so that a line said while the caller waits (a hold line, the move
    /// to the keypad) costs no synthesis then. Sentences that may carry personal data are skipped.
    /// Failures are left for the moment the line is spoken, which falls back and logs as usual.
    public func prepareLocalVoice(_ utterances: [Utterance]) async {
        for utterance in utterances where utterance.cacheable {
            if let cache, let key = key(for: utterance.text, language: utterance.language), cache.holds(key) {
                continue
            }
            let key = Self.localAudioKey(utterance)
            guard !localAudio.contains(key), preparing.withLock({ $0.insert(key).inserted }) else { continue }
            defer { _ = preparing.withLock { $0.remove(key) } }
            do {
                for try await _ in localVoiceAudio(utterance) {}
            } catch {
                logger.debug("a line was not prepared in the local voice", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One request's worth of text from the provider, through the cache when the text may be cached.
    private func providerAudio(_ text: String, utterance: Utterance, provider: Provider) -> AsyncThrowingStream<
        [UInt8], any Error
    > {
        let synthesizer = provider.synthesizer
        let language = utterance.language
        let style = style(utterance.delivery, language: language)
        guard utterance.cacheable, let cache, let key = key(for: text, language: language, style: style) else {
            return synthesizer.synthesize(text, language: language, style: style)
        }
        return cache.audio(for: key, pinned: utterance.pinned) {
            synthesizer.synthesize(key.text, language: language, style: style)
        }
    }

    /// After this grace, audio must keep arriving at least as fast as it plays.
    static let stallGrace = Duration.milliseconds(1200)

    /// `stream` held to a steady pace: it fails when its audio falls behind real time by more than
    /// ``stallGrace`` (a provider that drips or stops mid-answer is abandoned like one that never
    /// starts), and nothing is passed on until a whole frame has arrived, so a failure before that
    /// leaves nothing half-played and the fallback can speak the sentence whole.
    static func steady(_ stream: AsyncThrowingStream<[UInt8], any Error>) -> AsyncThrowingStream<[UInt8], any Error> {
        .producing { emit in
            let received = Tally()
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var held: [UInt8] = []
                    var started = false
                    for try await chunk in stream {
                        received.add(chunk.count)
                        if started {
                            emit(chunk)
                        } else {
                            held += chunk
                            if held.count >= TelephoneAudio.samplesPerFrame {
                                started = true
                                emit(held)
                                held = []
                            }
                        }
                    }
                    // A cancelled iteration ends like a finished one: what is held then is no answer.
                    try Task.checkCancellation()
                    if !held.isEmpty { emit(held) }
                }
                group.addTask {
                    while true {
                        let bytes = received.total
                        let due = start + stallGrace + .milliseconds(bytes * 1000 / TelephoneAudio.sampleRate)
                        if ContinuousClock.now >= due {
                            throw SpeechSynthesisError(
                                status: nil, providerCode: "stalled",
                                message: "the audio stopped coming faster than it plays")
                        }
                        try await Task.sleep(until: due, clock: .continuous)
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// The sentence made of its fragments' cached audio, when every fragment is cached.
    func composedAudio(_ utterance: Utterance) -> [UInt8]? {
        guard let fragments = utterance.fragments, !fragments.isEmpty, let cache else { return nil }
        var audio: [UInt8] = []
        for fragment in fragments {
            guard let key = key(for: fragment, language: utterance.language), let hit = cache.cached(key) else {
                return nil
            }
            audio += hit.audio
        }
        return audio
    }

    /// `text` cut at sentence ends (or spaces, or anywhere as a last resort) into pieces of at most `limit`
    /// characters, so a long phrase is split rather than refused by the provider.
    static func pieces(of text: String, limit: Int) -> [String] {
        guard text.count > limit else { return [text] }
        var pieces: [String] = []
        var rest = Substring(text)
        while rest.count > limit {
            let window = rest.prefix(limit)
            let cut =
                window.lastIndex(where: { ".!?;".contains($0) }).map { rest.index(after: $0) }
                ?? window.lastIndex(of: " ")
                ?? window.endIndex
            let piece = rest[..<cut].trimmingCharacters(in: .whitespaces)
            if !piece.isEmpty { pieces.append(piece) }
            rest = rest[cut...].drop(while: { $0 == " " })
        }
        let last = rest.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty { pieces.append(last) }
        return pieces
    }
}

/// A running count shared between tasks.
final class Tally: Sendable {
    private let count = Mutex(0)

    func add(_ amount: Int) { count.withLock { $0 += amount } }
    var total: Int { count.withLock { $0 } }
}
