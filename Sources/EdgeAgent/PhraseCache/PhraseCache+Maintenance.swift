import Foundation
public import LocalStore

extension PhraseCache {
    /// What `cache verify` found.
    public struct VerifyReport: Sendable, Equatable {
        /// Files whose audio matches its hash.
        public var intact = 0
        /// Indexed phrases whose file was damaged (evicted).
        public var corrupt = 0
        /// Indexed phrases whose file was gone (evicted).
        public var missing = 0
        /// Files no index row names, and unfinished temporary files (deleted).
        public var orphans = 0
        /// Bytes of intact audio.
        public var bytes: Int64 = 0

        /// Whether every indexed phrase was intact.
        public var passed: Bool { corrupt == 0 && missing == 0 }
    }

    /// What `cache stats` shows.
    public struct Statistics: Sendable {
        public var entries: Int
        public var pinned: Int
        public var bytes: Int64
        public var counters: [PhraseIndex.Counter: Int64]
        public var languages: [String: Int]
    }

    /// Checks every cached file against its hash; damaged and missing ones are evicted (the warmer
    /// fetches them again), files the index does not know are deleted.
    public func verify(progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) async throws -> VerifyReport {
        let entries = try await index.all()
        var report = VerifyReport()
        var broken: [String] = []
        for (number, entry) in entries.enumerated() {
            do {
                let audio = try PhraseAudioFile.read(path(of: entry.id))
                report.intact += 1
                report.bytes += Int64(audio.count)
            } catch .missing {
                report.missing += 1
                broken.append(entry.id)
            } catch {
                report.corrupt += 1
                broken.append(entry.id)
            }
            progress(number + 1, entries.count)
        }
        for key in broken { memory.remove(key) }
        for key in broken { unlink(path(of: key)) }
        try await index.remove(broken)
        report.orphans = removeOrphans(known: Set(entries.map(\.id)))
        return report
    }

    /// Deletes files in the cache folder that no index row names (a crash between the file's rename
    /// and its row) and temporary files a crash left; returns how many.
    func removeOrphans(known: Set<String>) -> Int {
        let files = FileManager.default
        guard let shards = try? files.contentsOfDirectory(atPath: folder) else { return 0 }
        var removed = 0
        for shard in shards {
            let shardPath = "\(folder)/\(shard)"
            guard let names = try? files.contentsOfDirectory(atPath: shardPath) else { continue }
            for name in names {
                let key = name.hasSuffix(".ulaw") ? String(name.dropLast(5)) : nil
                if let key, known.contains(key) { continue }
                unlink("\(shardPath)/\(name)")
                removed += 1
            }
        }
        return removed
    }

    /// Entry counts, bytes and the running counters.
    public func statistics() async throws -> Statistics {
        await flush()
        let entries = try await index.all()
        return Statistics(
            entries: entries.count, pinned: entries.filter(\.pinned).count,
            bytes: entries.reduce(0) { $0 + $1.sizeBytes }, counters: try await index.counters(),
            languages: Dictionary(grouping: entries, by: \.language).mapValues(\.count))
    }

    /// The keys already on disk (for the warmer).
    public func storedKeys() async throws -> Set<String> {
        try await index.keys()
    }
}

#if canImport(Glibc)
import Glibc
#endif
