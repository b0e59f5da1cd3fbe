import AudioIO
public import CallSimulator
import EdgeAgent
import Foundation
import Hummingbird
import LocalStore
public import Logging

/// `edge-agent cache bench`: how fast the phrase cache answers and fills, on this machine, against a
/// local stand-in for ElevenLabs (the real wire format, with a fixed delay per request like a network
/// round trip). Reports the time to the first audio of a memory-tier and a disk-tier hit of a 3-second
/// phrase, and the warm of the whole catalog one phrase at a time and with bounded concurrency.
public struct PhraseCacheBenchmark: Sendable {
    /// What the benchmark measured.
    public struct Results: Sendable, CustomStringConvertible {
        public var memoryHit: Percentiles?
        public var diskHit: Percentiles?
        public var phrases = 0
        public var sequentialWarm: Duration = .zero
        public var concurrentWarm: Duration = .zero
        public var concurrency = 0
        public var providerDelay: Duration = .zero

        public var description: String {
            func microseconds(_ value: Duration) -> String { String(format: "%.1f µs", value.seconds * 1_000_000) }
            func line(_ name: String, _ values: Percentiles?) -> String {
                guard let values else { return "\(name): no samples" }
                return "\(name): p50 \(microseconds(values.p50)), p99 \(microseconds(values.p99)), "
                    + "max \(microseconds(values.maximum)) (n=\(values.count))"
            }
            let sequentialRate = Double(phrases) / max(sequentialWarm.seconds, 0.001)
            let concurrentRate = Double(phrases) / max(concurrentWarm.seconds, 0.001)
            return [
                line("memory-tier hit, first audio of a 3 s phrase", memoryHit),
                line("disk-tier hit, first audio of a 3 s phrase", diskHit),
                String(
                    format: "warm of %d catalog phrases (provider answers in %.0f ms): one at a time %.1f s (%.0f/s), "
                        + "%d at a time %.1f s (%.0f/s)", phrases, providerDelay.seconds * 1000, sequentialWarm.seconds,
                    sequentialRate, concurrency, concurrentWarm.seconds, concurrentRate),
            ].joined(separator: "\n")
        }
    }

    let hits: Int
    let providerDelay: Duration
    let concurrency: Int
    /// Only the first this many catalog phrases are warmed (all when nil).
    let phraseLimit: Int?
    let logger: Logger

    public init(
        hits: Int = 10_000, providerDelay: Duration = .milliseconds(50), concurrency: Int = 8,
        phraseLimit: Int? = nil, logger: Logger
    ) {
        self.hits = hits
        self.providerDelay = providerDelay
        self.concurrency = concurrency
        self.phraseLimit = phraseLimit
        self.logger = logger
    }

    public func run() async throws -> Results {
        let delay = providerDelay
        let router = Router()
        router.post("/v1/text-to-speech/:voice/stream") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            let words = ((object?["text"] as? String) ?? "").split(separator: " ").count
            try await Task.sleep(for: delay)
            let audio = (0..<(max(1, words) * 300 * 8)).map { MuLaw.encode(Int16(3000 * sin(Double($0) * 0.26))) }
            return Response(
                status: .ok, headers: [.contentType: "audio/basic"], body: .init(byteBuffer: ByteBuffer(bytes: audio)))
        }
        return try await DemoRunner.serve(router, logger: logger) { url in try await measure(cloud: url) }
    }

    private func measure(cloud: URL) async throws -> Results {
        var results = Results()
        results.concurrency = concurrency
        results.providerDelay = providerDelay
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("edge-agent-bench-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = AgentConfiguration()
        configuration.dataDirectory = folder
        configuration.textToSpeech.apiKey = Secret("bench")
        configuration.textToSpeech.baseURL = cloud
        configuration.textToSpeech.voiceEnglish = "bench-en"
        configuration.textToSpeech.voiceSpanish = "bench-es"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logger)
        defer { Task { await app.shutdown() } }
        let speech = app.makeSpeechOutput()

        // Hits of a 3-second phrase: time to the first audio through the whole speech chain.
        let phrase = Utterance("Thank you for calling, how can I help you today?", language: "en")
        let key = speech.key(for: phrase.text, language: "en")!
        await app.phraseCache.store(key, audio: [UInt8](repeating: 0x55, count: 3 * 8000), pinned: true)
        let clock = ContinuousClock()
        var memory: [Duration] = []
        var disk: [Duration] = []
        memory.reserveCapacity(hits)
        for index in 0..<(hits * 2) {
            let fromDisk = index.isMultiple(of: 2)
            if fromDisk { app.phraseCache.evictFromMemory(key) }
            let start = clock.now
            var iterator = speech.speak(phrase).makeAsyncIterator()
            guard let first = try await iterator.next(), !first.isEmpty else { continue }
            let elapsed = clock.now - start
            if fromDisk { disk.append(elapsed) } else { memory.append(elapsed) }
        }
        results.memoryHit = Percentiles(memory)
        results.diskHit = Percentiles(disk)

        // The catalog, one phrase at a time, then again (in another voice, so nothing is cached) with concurrency.
        var texts = PhraseWarmer.catalogTexts(
            catalogs: app.catalogs, policy: configuration.reservations, phraseBook: app.phrases,
            restaurantName: configuration.restaurant.name)
        if let phraseLimit { texts = Array(texts.prefix(phraseLimit)) }
        results.phrases = texts.count
        var start = clock.now
        _ = try await PhraseWarmer(speech: speech, cache: app.phraseCache, texts: texts, concurrency: 1, logger: logger)
            .warm()
        results.sequentialWarm = clock.now - start
        let otherVoice = ElevenLabsClient(
            http: app.http, baseURL: cloud, apiKey: Secret("bench"), voices: ["en": "bench-en-2", "es": "bench-es-2"],
            logger: logger)
        let otherSpeech = SpeechOutput(
            provider: .init(
                synthesizer: GuardedSynthesizer(otherVoice, upstream: app.upstreams.elevenLabs),
                voices: otherVoice.identities, maxCharacters: 5000),
            cache: app.phraseCache, localVoice: LocalVoice(logger: logger), metrics: app.metrics, logger: logger)
        start = clock.now
        _ = try await PhraseWarmer(
            speech: otherSpeech, cache: app.phraseCache, texts: texts, concurrency: concurrency, logger: logger
        ).warm()
        results.concurrentWarm = clock.now - start
        return results
    }
}
