import Foundation
public import LocalStore
public import Logging

/// Fills the phrase cache with every phrase of the catalog that is missing, a few at a time, so the
/// warm runs at the provider's speed rather than one phrase after another.
public struct PhraseWarmer: Sendable {
    /// How far a warm has got, for the progress bar.
    public struct Progress: Sendable {
        public var done: Int
        public var total: Int
        public var bytes: Int
        public var elapsed: Duration

        /// Phrases per second so far.
        public var rate: Double { elapsed.seconds > 0 ? Double(done) / elapsed.seconds : 0 }
        /// The time left at the rate so far.
        public var remaining: Duration? {
            rate > 0 ? .milliseconds(Int64(Double(total - done) / rate * 1000)) : nil
        }
    }

    /// What a warm did.
    public struct Report: Sendable {
        /// Phrases in the catalog for the configured voices.
        public var phrases = 0
        /// Phrases that were already cached.
        public var alreadyCached = 0
        /// Phrases fetched and stored.
        public var fetched = 0
        public var failed = 0
        public var bytes = 0
        /// The first failure, to show the technician.
        public var firstError: String?
    }

    let speech: SpeechOutput
    let cache: PhraseCache
    let texts: [(text: String, language: String)]
    let concurrency: Int
    let logger: Logger

    /// - Parameter texts: every text to keep cached, with its language (``PhraseCatalog/warmTexts(policy:phraseBook:restaurantName:)``).
    public init(
        speech: SpeechOutput, cache: PhraseCache, texts: [(text: String, language: String)], concurrency: Int,
        logger: Logger
    ) {
        self.speech = speech
        self.cache = cache
        self.texts = texts
        self.concurrency = max(1, concurrency)
        self.logger = logger
    }

    /// The catalog's texts for every language, from the app's configuration.
    public static func catalogTexts(
        catalogs: [String: PhraseCatalog], policy: ReservationPolicy, phraseBook: PhraseBook, restaurantName: String
    ) -> [(text: String, language: String)] {
        PhraseBook.languages.flatMap { language in
            (catalogs[language]?.warmTexts(policy: policy, phraseBook: phraseBook, restaurantName: restaurantName)
                ?? []).map { (text: $0, language: language) }
        }
    }

    /// Fetches every missing phrase; `progress` is called after each one.
    /// - Parameter voice: a voice to warm beside the one in use (staff chose it; calls switch to it
    ///   once it is warm): its phrases are pinned as well, and the voice in use keeps its pins.
    public func warm(voice: String? = nil, progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws
        -> Report
    {
        guard let provider = speech.provider else {
            throw PhraseCacheError(
                "no cloud voice is configured (ELEVENLABS_API_KEY and EDGE_VOICE_EN / EDGE_VOICE_ES): nothing to warm")
        }
        // Each phrase's style is worked out once, so that a voice switch while the warm runs cannot put
        // one voice's audio under another's key.
        var styles: [String: VoiceStyle] = [:]
        let keys = texts.compactMap { text -> PhraseKey? in
            let style = speech.style(.usual, language: text.language, voice: voice)
            guard let key = speech.key(for: text.text, language: text.language, style: style) else { return nil }
            styles[key.hex] = style
            return key
        }
        let stylesByKey = styles
        if voice == nil {
            try await cache.index.pinExactly(Set(keys.map(\.hex)))
        } else {
            try await cache.index.pin(Set(keys.map(\.hex)))
        }
        let stored = try await cache.storedKeys()
        let missing = keys.filter { !stored.contains($0.hex) }
        var report = Report(phrases: keys.count, alreadyCached: keys.count - missing.count)
        let start = ContinuousClock.now
        var current = Progress(done: 0, total: missing.count, bytes: 0, elapsed: .zero)
        progress(current)
        let synthesizer = provider.synthesizer
        try await withThrowingTaskGroup(of: Result<Int, any Error>.self) { group in
            var next = missing.makeIterator()
            func startNext() -> Bool {
                guard let key = next.next() else { return false }
                group.addTask {
                    do {
                        return .success(
                            try await cache.fill(key) {
                                synthesizer.synthesize(
                                    key.text, language: key.language, style: stylesByKey[key.hex] ?? .standard)
                            })
                    } catch {
                        return .failure(error)
                    }
                }
                return true
            }
            for _ in 0..<concurrency where !startNext() { break }
            while let result = try await group.next() {
                switch result {
                case .success(let bytes):
                    report.fetched += 1
                    report.bytes += bytes
                case .failure(let error):
                    report.failed += 1
                    if report.firstError == nil { report.firstError = "\(error)" }
                }
                current.done += 1
                current.bytes = report.bytes
                current.elapsed = ContinuousClock.now - start
                progress(current)
                _ = startNext()
            }
        }
        return report
    }
}
