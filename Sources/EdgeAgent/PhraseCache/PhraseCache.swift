import CoreMetrics
import Foundation
public import LocalStore
public import Logging
import Synchronization

/// Spoken phrases, paid for once: a memory tier (LRU bounded in bytes) in front of a disk tier
/// (content-addressed files under `EDGE_DATA_DIR/phrases`, indexed in `phrase_cache`).
///
/// A miss is fetched from the provider once however many calls ask for it at the same time (single
/// flight), streamed to all of them as it arrives, then stored. A damaged or missing file is evicted
/// and fetched again, never played. The disk tier keeps to a size budget by evicting the least
/// recently heard unpinned phrases; catalog phrases are pinned. When the disk cannot be written (full,
/// read-only) calls go on uncached, and the failure is reported once, not per phrase.
public final class PhraseCache: Sendable {
    /// Where a phrase was found.
    public enum Tier: String, Sendable {
        case memory
        case disk
    }

    /// The cache's limits.
    public struct Limits: Sendable {
        /// The most bytes of audio on disk (pinned phrases may exceed it; nothing else is kept then).
        public var diskBytes: Int64
        /// The most bytes of audio in memory.
        public var memoryBytes: Int

        public init(diskBytes: Int64 = 512 * 1024 * 1024, memoryBytes: Int = 32 * 1024 * 1024) {
            self.diskBytes = diskBytes
            self.memoryBytes = memoryBytes
        }
    }

    private struct Pending {
        var hits: [String: Int64] = [:]
        var counters: [PhraseIndex.Counter: Int64] = [:]
        var flushScheduled = false
    }

    private struct WriteHealth {
        /// Until when writes are skipped after a failure (they are tried again after that).
        var suspendedUntil: Date?
        var reported = false
    }

    /// The folder of the audio files.
    public let folder: String

    /// Drops one phrase from memory (its file stays), so that its next hit is read from disk.
    public func evictFromMemory(_ key: PhraseKey) { memory.remove(key.hex) }
    public let limits: Limits
    let index: PhraseIndex
    let memory: MemoryPhraseTier
    private let inFlight = Mutex<[String: PhraseBroadcast]>([:])
    private let pending = Mutex(Pending())
    private let writeHealth = Mutex(WriteHealth())
    private let clock: any WallClock
    private let logger: Logger
    private let memoryHits: CoreMetrics.Counter
    private let diskHits: CoreMetrics.Counter
    private let misses: CoreMetrics.Counter
    private let corruptFiles: CoreMetrics.Counter
    private let savedCharacters: CoreMetrics.Counter

    /// Less audio than this (a tenth of a second) is not a phrase and is never cached.
    static let minimumAudioBytes = 800

    /// How long writes pause after the disk refused one.
    static let writeRetryInterval: TimeInterval = 60

    public init(
        dataDirectory: String, database: EdgeDatabase, limits: Limits = Limits(), metrics: AgentMetrics,
        logger: Logger
    ) {
        folder = (dataDirectory as NSString).appendingPathComponent("phrases")
        self.limits = limits
        index = PhraseIndex(database: database)
        memory = MemoryPhraseTier(capacityBytes: limits.memoryBytes)
        clock = database.clock
        self.logger = logger
        let label = "edge_phrase_cache_lookups_total"
        memoryHits = CoreMetrics.Counter(label: label, dimensions: [("result", "memory_hit")], factory: metrics.factory)
        diskHits = CoreMetrics.Counter(label: label, dimensions: [("result", "disk_hit")], factory: metrics.factory)
        misses = CoreMetrics.Counter(label: label, dimensions: [("result", "miss")], factory: metrics.factory)
        corruptFiles = CoreMetrics.Counter(label: "edge_phrase_cache_corrupt_files_total", factory: metrics.factory)
        savedCharacters = metrics.cacheSavedCharacters
    }

    /// The file of `key`: `phrases/<first two hex digits>/<key>.ulaw`.
    public func path(of key: String) -> String {
        "\(folder)/\(key.prefix(2))/\(key).ulaw"
    }

    /// The cached audio of `key` and where it was found, or nil. A damaged file is evicted.
    public func cached(_ key: PhraseKey) -> (audio: [UInt8], tier: Tier)? {
        if let audio = memory.audio(key.hex) {
            memoryHits.increment()
            countHit(key, counter: .memoryHits)
            return (audio, .memory)
        }
        do {
            let audio = try PhraseAudioFile.read(path(of: key.hex))
            memory.insert(key.hex, audio: audio)
            diskHits.increment()
            countHit(key, counter: .diskHits)
            return (audio, .disk)
        } catch .missing {
            return nil
        } catch {
            corruptFiles.increment()
            logger.warning(
                "damaged phrase cache file evicted", metadata: ["phrase.key": .string(key.hex), "error": "\(error)"])
            evictSoon([key.hex])
            return nil
        }
    }

    /// Whether `key` is in memory or on disk, without reading it or counting a hit.
    public func holds(_ key: PhraseKey) -> Bool {
        memory.contains(key.hex) || FileManager.default.fileExists(atPath: path(of: key.hex))
    }

    /// The audio of `key`: from the cache, or fetched with `fetch` (once, however many ask at the same
    /// time) and stored when it completes. The fetch runs to its end even if a listener stops listening
    /// (a barge-in), since the phrase is then in the cache for the next caller.
    public func audio(
        for key: PhraseKey, pinned: Bool,
        fetch: @escaping @Sendable () -> AsyncThrowingStream<[UInt8], any Error>
    ) -> AsyncThrowingStream<[UInt8], any Error> {
        if let hit = cached(key) { return .just(hit.audio) }
        let (broadcast, leads) = inFlight.withLock { flights in
            if let running = flights[key.hex] { return (running, false) }
            let broadcast = PhraseBroadcast()
            flights[key.hex] = broadcast
            return (broadcast, true)
        }
        if leads {
            misses.increment()
            Task {
                var audio: [UInt8] = []
                do {
                    for try await chunk in fetch() {
                        audio += chunk
                        broadcast.publish(chunk)
                    }
                    guard !audio.isEmpty else {
                        throw SpeechSynthesisError(
                            status: nil, providerCode: nil, message: "the provider sent no audio")
                    }
                    add(.misses, 1)
                    add(.charactersSynthesized, Int64(key.text.count))
                } catch {
                    _ = inFlight.withLock { $0.removeValue(forKey: key.hex) }
                    broadcast.finish(throwing: error)
                    return
                }
                // In memory before the flight ends, so a later request finds it there.
                memory.insert(key.hex, audio: audio)
                _ = inFlight.withLock { $0.removeValue(forKey: key.hex) }
                broadcast.finish(throwing: nil)
                await store(key, audio: audio, pinned: pinned)
            }
        }
        return broadcast.listen()
    }

    /// Fetches `key` with `fetch` unless it is cached, and stores it before returning: for the warmer,
    /// which must know the phrase is on disk. Returns the bytes fetched (0 when it was cached).
    public func fill(
        _ key: PhraseKey, fetch: @Sendable () -> AsyncThrowingStream<[UInt8], any Error>
    ) async throws -> Int {
        if FileManager.default.fileExists(atPath: path(of: key.hex)), cached(key) != nil { return 0 }
        var audio: [UInt8] = []
        for try await chunk in fetch() { audio += chunk }
        guard audio.count >= Self.minimumAudioBytes else {
            throw SpeechSynthesisError(status: nil, providerCode: nil, message: "the provider sent almost no audio")
        }
        add(.misses, 1)
        add(.charactersSynthesized, Int64(key.text.count))
        guard await store(key, audio: audio, pinned: true) else {
            throw PhraseCacheError(
                "the phrase cache folder \(folder) cannot be written (see the log); is the disk full?")
        }
        return audio.count
    }

    /// Writes `audio` to disk and the index, then keeps the disk tier within its budget. Failures are
    /// logged (once while they last) and leave the cache as it was; the result says whether it was stored.
    @discardableResult
    public func store(_ key: PhraseKey, audio: [UInt8], pinned: Bool) async -> Bool {
        memory.insert(key.hex, audio: audio)
        let now = Date()
        let skip = writeHealth.withLock { health in
            if let until = health.suspendedUntil, until > now { return true }
            return false
        }
        guard !skip else { return false }
        do {
            let path = path(of: key.hex)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try PhraseAudioFile.write(audio, to: path)
            let time = clock.nowMilliseconds()
            try await index.store(
                PhraseCacheEntry(
                    id: key.hex, text: key.text, language: key.language, voice: key.voice.voice,
                    provider: key.voice.provider, outputFormat: key.voice.outputFormat, sizeBytes: Int64(audio.count),
                    createdAt: time, lastHitAt: time, pinned: pinned))
            let recovered = writeHealth.withLock { health in
                defer { health = WriteHealth() }
                return health.reported
            }
            if recovered { logger.notice("the phrase cache is writable again") }
            try await enforceBudget()
            return true
        } catch {
            let first = writeHealth.withLock { health in
                health.suspendedUntil = now.addingTimeInterval(Self.writeRetryInterval)
                defer { health.reported = true }
                return !health.reported
            }
            if first {
                logger.error(
                    "the phrase cache cannot be written; calls go on without caching new phrases",
                    metadata: ["cache.folder": .string(folder), "error": "\(error)"])
            }
            return false
        }
    }

    /// Evicts the least recently heard unpinned phrases until the disk tier fits its budget.
    func enforceBudget() async throws {
        let victims = try await index.evictionVictims(toFit: limits.diskBytes)
        guard !victims.isEmpty else { return }
        await evict(victims.map(\.id))
        logger.debug("phrase cache evictions", metadata: ["cache.evicted": .stringConvertible(victims.count)])
    }

    /// Removes phrases from memory, disk and the index.
    func evict(_ keys: [String]) async {
        removeAudio(keys)
        do { try await index.remove(keys) } catch {
            logger.warning("phrase cache index not updated", metadata: ["error": "\(error)"])
        }
    }

    /// Removes phrases' audio from memory and disk at once; their index rows go in the background.
    private func evictSoon(_ keys: [String]) {
        removeAudio(keys)
        Task { await evict(keys) }
    }

    private func removeAudio(_ keys: [String]) {
        for key in keys {
            memory.remove(key)
            unlink(path(of: key))
        }
    }

    // MARK: Counting

    private func countHit(_ key: PhraseKey, counter: PhraseIndex.Counter) {
        savedCharacters.increment(by: Int64(key.text.count))
        count { pending in
            pending.hits[key.hex, default: 0] += 1
            pending.counters[counter, default: 0] += 1
            pending.counters[.charactersSaved, default: 0] += Int64(key.text.count)
        }
    }

    private func add(_ counter: PhraseIndex.Counter, _ value: Int64) {
        count { $0.counters[counter, default: 0] += value }
    }

    /// Updates the pending counts, and schedules their flush if none is scheduled.
    private func count(_ update: (inout Pending) -> Void) {
        let schedule = pending.withLock { pending in
            update(&pending)
            defer { pending.flushScheduled = true }
            return !pending.flushScheduled
        }
        if schedule { scheduleFlush() }
    }

    /// Hits are written to the index in batches, off the audio's path.
    private func scheduleFlush() {
        Task {
            try? await Task.sleep(for: .seconds(2))
            await flush()
        }
    }

    /// Writes the hits and counters gathered so far to the index (also called at shutdown and by tests).
    public func flush() async {
        let batch = pending.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
        do {
            try await index.record(hits: batch.hits, counters: batch.counters, at: clock.nowMilliseconds())
        } catch {
            logger.warning("phrase cache hits not recorded", metadata: ["error": "\(error)"])
        }
    }
}

/// The phrase cache cannot do what was asked, with what to do about it.
public struct PhraseCacheError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

#if canImport(Glibc)
import Glibc
#endif
