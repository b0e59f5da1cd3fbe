import AsyncHandoff
import Foundation
import GRDB
import Hummingbird
import LocalStore
import TestSupport
import Testing

@testable import EdgeAgent

/// A phrase cache over a real database and folder, speaking through the ElevenLabs double.
struct PhraseCacheRig {
    let folder = TemporaryFolder()
    let database: EdgeDatabase
    let cache: PhraseCache
    let metrics = AgentMetrics()
    let logs = LogCapture()

    init(limits: PhraseCache.Limits = PhraseCache.Limits()) throws {
        let data = folder.file("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        database = try EdgeDatabase(dataDirectory: data, logger: logs.logger)
        cache = PhraseCache(
            dataDirectory: data, database: database, limits: limits, metrics: metrics, logger: logs.logger)
    }

    func speech(_ url: URL, maxCharacters: Int = 5000) -> SpeechOutput {
        let client = ElevenLabsClient(
            http: .shared, baseURL: url, apiKey: Secret(ElevenLabsDouble.apiKey),
            voices: ["en": "voice-en", "es": "voice-es"], logger: logs.logger)
        return SpeechOutput(
            provider: .init(synthesizer: client, voices: client.identities, maxCharacters: maxCharacters),
            cache: cache, localVoice: LocalVoice(logger: logs.logger), metrics: metrics, logger: logs.logger)
    }

    /// Serves `double` on loopback while `body` speaks through it.
    func withSpeech<Result: Sendable>(
        from double: ElevenLabsDouble, maxCharacters: Int = 5000, _ body: (SpeechOutput) async throws -> Result
    ) async throws -> Result {
        let router = Router()
        double.register(on: router)
        return try await withLoopbackServer(router) { url in try await body(speech(url, maxCharacters: maxCharacters)) }
    }

    static func audio(_ stream: AsyncThrowingStream<[UInt8], any Error>) async throws -> [UInt8] {
        var audio: [UInt8] = []
        for try await chunk in stream { audio += chunk }
        return audio
    }

    /// Waits until the background store of a fetched phrase has written its index row.
    func waitForEntry(_ key: PhraseKey) async throws -> PhraseCacheEntry {
        let observation = ValueObservation.tracking { db in try PhraseCacheEntry.fetchOne(db, key: key.hex) }
        for try await entry in observation.values(in: database.pool) {
            if let entry { return entry }
        }
        throw PhraseCacheError("observation ended")
    }
}

@Suite("Phrase cache")
struct PhraseCacheTests {
    static let voice = VoiceIdentity(
        provider: "elevenlabs", voice: "v1", model: "m", outputFormat: "ulaw_8000", settings: "s")

    @Test("the key covers voice, model, language, format, settings and text; spacing does not matter")
    func keys() {
        let base = PhraseKey(text: "Hello there.", language: "en", voice: Self.voice)
        #expect(PhraseKey(text: "  Hello \n there. ", language: "en", voice: Self.voice) == base)
        let variants = [
            PhraseKey(text: "Hello there!", language: "en", voice: Self.voice),
            PhraseKey(text: "Hello there.", language: "es", voice: Self.voice),
            PhraseKey(
                text: "Hello there.", language: "en",
                voice: .init(provider: "elevenlabs", voice: "v2", model: "m", outputFormat: "ulaw_8000", settings: "s")),
            PhraseKey(
                text: "Hello there.", language: "en",
                voice: .init(provider: "elevenlabs", voice: "v1", model: "m2", outputFormat: "ulaw_8000", settings: "s")
            ),
            PhraseKey(
                text: "Hello there.", language: "en",
                voice: .init(provider: "elevenlabs", voice: "v1", model: "m", outputFormat: "pcm_16000", settings: "s")),
            PhraseKey(
                text: "Hello there.", language: "en",
                voice: .init(provider: "elevenlabs", voice: "v1", model: "m", outputFormat: "ulaw_8000", settings: "t")),
        ]
        #expect(Set(variants.map(\.hex)).count == variants.count)
        #expect(!variants.map(\.hex).contains(base.hex))
        #expect(base.hex.count == 64)
    }

    @Test("a miss is fetched once, stored on disk with its index row, then served from memory and disk")
    func missThenHits() async throws {
        let rig = try PhraseCacheRig()
        let double = ElevenLabsDouble()
        try await rig.withSpeech(from: double) { speech in
            let utterance = Utterance("Let me check that for you.", language: "en")
            let first = try await PhraseCacheRig.audio(speech.speak(utterance))
            #expect(first == ElevenLabsDouble.audio(milliseconds: 600))
            let key = try #require(speech.key(for: utterance.text, language: "en"))
            let entry = try await rig.waitForEntry(key)
            #expect(entry.sizeBytes == Int64(first.count))
            #expect(entry.voice == "voice-en" && entry.provider == "elevenlabs" && entry.outputFormat == "ulaw_8000")
            #expect(entry.text == "Let me check that for you.")

            #expect(try await PhraseCacheRig.audio(speech.speak(utterance)) == first)
            #expect(rig.cache.cached(key)?.tier == .memory)
            rig.cache.memory.remove(key.hex)
            #expect(rig.cache.cached(key)?.tier == .disk)
            #expect(rig.cache.cached(key)?.tier == .memory)
            #expect(double.requestCount == 1)

            let statistics = try await rig.cache.statistics()
            #expect(statistics.counters[.misses] == 1)
            #expect(statistics.counters[.memoryHits] == 3)
            #expect(statistics.counters[.diskHits] == 1)
            #expect(statistics.counters[.charactersSaved] == 4 * Int64(utterance.text.count))
            #expect(try await rig.cache.index.entry(key.hex)?.hitCount == 4)
        }
    }

    @Test("calls missing the same phrase at once cause one upstream request, and all hear it whole")
    func singleFlight() async throws {
        let rig = try PhraseCacheRig()
        let gate = Gate()
        let double = ElevenLabsDouble(gate: gate)
        try await rig.withSpeech(from: double) { speech in
            let utterance = Utterance("Your table is booked.", language: "en")
            let results = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for _ in 0..<12 { group.addTask { try await PhraseCacheRig.audio(speech.speak(utterance)) } }
                // The audio is held until the one request has arrived; callers asking later join the
                // flight or, once it is over, find the phrase in memory.
                await double.arrived.wait()
                gate.open()
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(double.requestCount == 1)
            #expect(results.count == 12)
            #expect(results.allSatisfy { $0 == ElevenLabsDouble.audio(milliseconds: 400) })
        }
    }

    @Test("a damaged or missing file is evicted and fetched again, never played")
    func corruptFiles() async throws {
        let rig = try PhraseCacheRig()
        let double = ElevenLabsDouble()
        try await rig.withSpeech(from: double) { speech in
            let utterance = Utterance("Thank you for your patience.", language: "en")
            let good = try await PhraseCacheRig.audio(speech.speak(utterance))
            let key = speech.key(for: utterance.text, language: "en")!
            _ = try await rig.waitForEntry(key)
            let path = rig.cache.path(of: key.hex)

            // One flipped byte in the audio.
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count / 2] ^= 0x40
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            rig.cache.memory.remove(key.hex)
            #expect(rig.cache.cached(key) == nil)
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(try await PhraseCacheRig.audio(speech.speak(utterance)) == good)
            #expect(double.requestCount == 2)
            #expect(rig.logs.all.contains { $0.contains("damaged phrase cache file evicted") })

            // A truncated file (a crash before the rename cannot make one, a failing disk can).
            _ = try await rig.waitForEntry(key)
            try Data(bytes.prefix(20)).write(to: URL(fileURLWithPath: path))
            rig.cache.memory.remove(key.hex)
            #expect(rig.cache.cached(key) == nil)
            #expect(try await PhraseCacheRig.audio(speech.speak(utterance)) == good)
            #expect(double.requestCount == 3)
        }
    }

    @Test("cache verify finds damaged, missing and stray files; damaged and missing ones are evicted")
    func verify() async throws {
        let rig = try PhraseCacheRig()
        let keys = (0..<4).map { PhraseKey(text: "Phrase \($0).", language: "en", voice: Self.voice) }
        for key in keys {
            #expect(await rig.cache.store(key, audio: [UInt8](repeating: 0x55, count: 800), pinned: true))
        }
        var damaged = try [UInt8](Data(contentsOf: URL(fileURLWithPath: rig.cache.path(of: keys[0].hex))))
        damaged[100] ^= 1
        try Data(damaged).write(to: URL(fileURLWithPath: rig.cache.path(of: keys[0].hex)))
        try FileManager.default.removeItem(atPath: rig.cache.path(of: keys[1].hex))
        // What a crash between writing and renaming leaves, and a file nobody indexed.
        let shard = (rig.cache.path(of: keys[2].hex) as NSString).deletingLastPathComponent
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: shard + "/.tmp-crashed"))
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: shard + "/" + String(repeating: "a", count: 64) + ".ulaw"))

        let report = try await rig.cache.verify()
        #expect(report == PhraseCache.VerifyReport(intact: 2, corrupt: 1, missing: 1, orphans: 2, bytes: 1600))
        #expect(!report.passed)
        #expect(try await rig.cache.storedKeys() == [keys[2].hex, keys[3].hex])
        #expect(try await rig.cache.verify().passed)
    }

    @Test("the disk budget evicts the least recently heard unpinned phrases, never pinned ones")
    func budget() async throws {
        let rig = try PhraseCacheRig(limits: .init(diskBytes: 3000, memoryBytes: 100_000))
        let audio = [UInt8](repeating: 0x33, count: 1000)
        let pinned = PhraseKey(text: "Pinned.", language: "en", voice: Self.voice)
        let keys = (0..<4).map { PhraseKey(text: "Dynamic \($0).", language: "en", voice: Self.voice) }
        await rig.cache.store(pinned, audio: audio, pinned: true)
        await rig.cache.store(keys[0], audio: audio, pinned: false)
        await rig.cache.store(keys[1], audio: audio, pinned: false)
        // keys[0] is heard, so keys[1] is now the least recently heard.
        rig.cache.memory.remove(keys[0].hex)
        _ = rig.cache.cached(keys[0])
        await rig.cache.flush()
        try await rig.database.write { db in
            try db.execute(sql: "UPDATE phrase_cache SET last_hit_at = 1 WHERE id = ?", arguments: [keys[1].hex])
        }
        await rig.cache.store(keys[2], audio: audio, pinned: false)
        let stored = try await rig.cache.storedKeys()
        #expect(stored == [pinned.hex, keys[0].hex, keys[2].hex])
        #expect(!FileManager.default.fileExists(atPath: rig.cache.path(of: keys[1].hex)))
        #expect(try await rig.cache.index.totalBytes() <= 3000)

        // Pinned phrases alone over the budget stay; unpinned ones make way.
        let small = PhraseCache(
            dataDirectory: rig.folder.file("data"), database: rig.database,
            limits: .init(diskBytes: 500, memoryBytes: 100_000), metrics: rig.metrics, logger: rig.logs.logger)
        await small.store(keys[3], audio: audio, pinned: false)
        #expect(try await small.storedKeys() == [pinned.hex])
    }

    @Test("the memory tier keeps to its byte budget, dropping the least recently used")
    func memoryLRU() {
        let tier = MemoryPhraseTier(capacityBytes: 3000)
        tier.insert("a", audio: [UInt8](repeating: 1, count: 1000))
        tier.insert("b", audio: [UInt8](repeating: 2, count: 1000))
        tier.insert("c", audio: [UInt8](repeating: 3, count: 1000))
        _ = tier.audio("a")
        tier.insert("d", audio: [UInt8](repeating: 4, count: 1000))
        #expect(tier.audio("b") == nil)
        #expect(tier.audio("a") != nil && tier.audio("c") != nil && tier.audio("d") != nil)
        #expect(tier.bytes == 3000)
        tier.insert("huge", audio: [UInt8](repeating: 5, count: 4000))
        #expect(tier.audio("huge") == nil && tier.count == 3)
    }

    @Test("sentences with a caller's name or a phone number are spoken but never cached")
    func personalData() async throws {
        var filter = PersonalDataFilter()
        filter.add("Maria Lopez")
        #expect(!filter.allowsCaching("Thank you, Maria, see you soon."))
        #expect(!filter.allowsCaching("I have your number as 555 123 4567."))
        #expect(!filter.allowsCaching("Write to us at info@example.com."))
        #expect(filter.allowsCaching("A table for four at 7:30 tomorrow."))
        #expect(filter.allowsCaching("Marianne will be your host."))

        let rig = try PhraseCacheRig()
        let double = ElevenLabsDouble()
        try await rig.withSpeech(from: double) { speech in
            let text = "Thank you, Maria, see you soon."
            for _ in 0..<2 {
                let audio = try await PhraseCacheRig.audio(
                    speech.speak(Utterance(text, language: "en", cacheable: filter.allowsCaching(text))))
                #expect(!audio.isEmpty)
            }
            #expect(double.requestCount == 2)
            #expect(try await rig.cache.storedKeys().isEmpty)
            let files = FileManager.default.enumerator(atPath: rig.cache.folder)?.allObjects ?? []
            #expect(!files.contains { ($0 as? String)?.hasSuffix(".ulaw") == true })
        }
    }

    @Test("a cache folder that cannot be written: calls go on uncached, the error is reported once")
    func unwritableFolder() async throws {
        let rig = try PhraseCacheRig()
        // A file where the folder should be: every write fails, as on a full or read-only disk.
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: rig.cache.folder))
        let double = ElevenLabsDouble()
        try await rig.withSpeech(from: double) { speech in
            for index in 0..<5 {
                let key = speech.key(for: "Sentence number \(index).", language: "en")!
                let audio = try await PhraseCacheRig.audio(
                    rig.cache.audio(for: key, pinned: false) {
                        speech.provider!.synthesizer.synthesize(key.text, language: "en")
                    })
                #expect(!audio.isEmpty)
                #expect(await rig.cache.store(key, audio: audio, pinned: false) == false)
            }
        }
        #expect(rig.logs.all.filter { $0.contains("the phrase cache cannot be written") }.count == 1)
        #expect(try await rig.cache.storedKeys().isEmpty)
    }

    @Test("a phrase longer than the provider takes is split at sentence ends, not refused")
    func longPhrase() async throws {
        let rig = try PhraseCacheRig()
        let double = ElevenLabsDouble()
        let text = (1...6).map { "Terrace number \($0) has heaters for the colder evenings of the year." }
            .joined(separator: " ")
        let audio = try await rig.withSpeech(from: double, maxCharacters: 150) { speech in
            try await PhraseCacheRig.audio(speech.speak(Utterance(text, language: "en")))
        }
        let sent = double.requests.withLockedValue { $0.map(\.text) }
        #expect(sent.joined(separator: " ") == text)
        #expect(audio.count == 6 * 12 * 800)
        #expect(sent.count == 3)
        #expect(sent.allSatisfy { $0.count <= 150 && $0.hasSuffix(".") })
        #expect(SpeechOutput.pieces(of: String(repeating: "x", count: 45), limit: 20).map(\.count) == [20, 20, 5])
    }

    @Test("with ElevenLabs failing, a read-back is composed from cached fragments in the same voice")
    func composedFallback() async throws {
        let rig = try PhraseCacheRig()
        let double = ElevenLabsDouble()
        let catalog = try #require(try PhraseCatalog.load()["en"])
        let today = LocalDate(year: 2026, month: 11, day: 25)!
        let utterance = catalog.booking(
            partySize: 4, date: LocalDate(year: 2026, month: 11, day: 27)!, time: LocalTime("19:30")!, today: today)
        #expect(utterance.text == "A table for four people, Friday, November twenty-seventh, at seven thirty p.m.")
        let fragments = try #require(utterance.fragments)
        #expect(
            fragments == [
                "A table for", "four", "people", "Friday", "November", "twenty-seventh", "at", "seven thirty p.m.",
            ])
        try await rig.withSpeech(from: double) { speech in
            var expected: [UInt8] = []
            for fragment in fragments {
                let key = speech.key(for: fragment, language: "en")!
                let audio = [UInt8](repeating: UInt8(fragment.count), count: 160 * fragment.count)
                await rig.cache.store(key, audio: audio, pinned: true)
                expected += audio
            }
            double.fault.withLockedValue { $0 = .status(503) }
            let audio = try await PhraseCacheRig.audio(speech.speak(utterance))
            #expect(audio == expected)
            #expect(rig.metrics.exposition().contains("edge_tts_composed_fallbacks_total 1"))
            // Without every fragment cached, the local voice speaks instead.
            await rig.cache.evict([speech.key(for: "at", language: "en")!.hex])
            let local = try await PhraseCacheRig.audio(speech.speak(utterance))
            #expect(local != expected && local.count > 8000)
            #expect(rig.metrics.exposition().contains("edge_tts_local_fallbacks_total 1"))
        }
    }

    @Test("a provider that drips a few bytes and stalls yields an error and nothing else, so the fallback speaks")
    func dripYieldsNothing() async throws {
        let (source, feed) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        feed.yield([0xFF, 0xFF, 0xFF, 0xFF])
        var received: [[UInt8]] = []
        await #expect {
            for try await chunk in SpeechOutput.steady(source) { received.append(chunk) }
        } throws: { ($0 as? SpeechSynthesisError)?.providerCode == "stalled" }
        #expect(received.isEmpty)
        feed.finish()
    }

    @Test("ElevenLabs answering HTML instead of audio is a failure, not noise in the caller's ear")
    func garbageIsNotAudio() async throws {
        let rig = try PhraseCacheRig()
        let double = ElevenLabsDouble(fault: .garbage)
        try await rig.withSpeech(from: double) { speech in
            let audio = try await PhraseCacheRig.audio(speech.speak(Utterance("One moment.", language: "en")))
            #expect(!audio.contains(UInt8(ascii: "<")) || audio.count > 4000)
            #expect(try await rig.cache.storedKeys().isEmpty)
            #expect(rig.logs.all.contains { $0.contains("instead of audio") })
        }
    }
}
