import GRDB

/// The `phrase_cache` table: which phrases are on disk, how big, how often and how lately heard, and
/// the cache's running counters. The audio itself lives in files; see the agent's `DiskPhraseTier`.
public struct PhraseIndex: Sendable {
    /// The running totals `cache stats` reports, kept in `phrase_cache_counters`.
    public enum Counter: String, CaseIterable, Sendable {
        case memoryHits = "memory_hits"
        case diskHits = "disk_hits"
        case misses
        /// Characters sent to the provider to fill the cache.
        case charactersSynthesized = "characters_synthesized"
        /// Characters served from the cache instead of being sent to the provider again.
        case charactersSaved = "characters_saved"
    }

    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// The entry for `key`, if the phrase is cached.
    public func entry(_ key: String) async throws -> PhraseCacheEntry? {
        try await database.read { db in try PhraseCacheEntry.fetchOne(db, key: key) }
    }

    /// Every entry, least recently heard first.
    public func all() async throws -> [PhraseCacheEntry] {
        try await database.read { db in
            try PhraseCacheEntry.order(Column("last_hit_at"), Column("id")).fetchAll(db)
        }
    }

    /// The keys of every entry (for the warmer, to skip what is there).
    public func keys() async throws -> Set<String> {
        try await database.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM phrase_cache")) }
    }

    /// Adds or replaces an entry; a replaced entry keeps its hit count, and stays pinned once pinned.
    public func store(_ entry: PhraseCacheEntry) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO phrase_cache (id, text, language, voice, provider, output_format, size_bytes,
                        created_at, last_hit_at, hit_count, pinned)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET size_bytes = excluded.size_bytes,
                        created_at = excluded.created_at, pinned = max(pinned, excluded.pinned)
                    """,
                arguments: [
                    entry.id, entry.text, entry.language, entry.voice, entry.provider, entry.outputFormat,
                    entry.sizeBytes, entry.createdAt, entry.lastHitAt, entry.hitCount, entry.pinned,
                ])
        }
    }

    /// Pins exactly `keys` among the cached phrases: the catalog's current phrases stay, those of an
    /// earlier voice or catalog become evictable.
    /// Pins `keys` as well, unpinning nothing (a voice being warmed beside the one in use).
    public func pin(_ keys: Set<String>) async throws {
        try await database.write { db in
            for key in keys {
                try db.execute(sql: "UPDATE phrase_cache SET pinned = 1 WHERE id = ? AND pinned = 0", arguments: [key])
            }
        }
    }

    public func pinExactly(_ keys: Set<String>) async throws {
        try await database.write { db in
            for key in try String.fetchAll(db, sql: "SELECT id FROM phrase_cache WHERE pinned = 1")
            where !keys.contains(key) {
                try db.execute(sql: "UPDATE phrase_cache SET pinned = 0 WHERE id = ?", arguments: [key])
            }
            for key in keys {
                try db.execute(sql: "UPDATE phrase_cache SET pinned = 1 WHERE id = ? AND pinned = 0", arguments: [key])
            }
        }
    }

    /// Records hits gathered since the last call (key to count), and adds to the running counters, in
    /// one transaction.
    public func record(hits: [String: Int64], counters: [Counter: Int64], at time: Int64) async throws {
        guard !hits.isEmpty || counters.values.contains(where: { $0 != 0 }) else { return }
        try await database.write { db in
            for (key, count) in hits {
                try db.execute(
                    sql:
                        "UPDATE phrase_cache SET hit_count = hit_count + ?, last_hit_at = max(last_hit_at, ?) WHERE id = ?",
                    arguments: [count, time, key])
            }
            for (counter, value) in counters where value != 0 {
                try db.execute(
                    sql: """
                        INSERT INTO phrase_cache_counters (id, value) VALUES (?, ?)
                        ON CONFLICT (id) DO UPDATE SET value = value + excluded.value
                        """,
                    arguments: [counter.rawValue, value])
            }
        }
    }

    /// The running counters (zero for those never counted).
    public func counters() async throws -> [Counter: Int64] {
        try await database.read { db in
            var result: [Counter: Int64] = [:]
            for counter in Counter.allCases { result[counter] = 0 }
            for row in try Row.fetchAll(db, sql: "SELECT id, value FROM phrase_cache_counters") {
                if let counter = Counter(rawValue: row["id"]) { result[counter] = row["value"] }
            }
            return result
        }
    }

    /// Removes the entries of `keys` (their files are the caller's to delete).
    public func remove(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try await database.write { db in
            _ = try PhraseCacheEntry.deleteAll(db, keys: keys)
        }
    }

    /// The bytes of every cached file together.
    public func totalBytes() async throws -> Int64 {
        try await database.read { db in
            try Int64.fetchOne(db, sql: "SELECT coalesce(sum(size_bytes), 0) FROM phrase_cache") ?? 0
        }
    }

    /// The unpinned entries to evict, least recently heard first, so that what stays fits in `budget`
    /// bytes (pinned entries are never chosen, even when they alone exceed the budget).
    public func evictionVictims(toFit budget: Int64) async throws -> [PhraseCacheEntry] {
        try await database.read { db in
            var total = try Int64.fetchOne(db, sql: "SELECT coalesce(sum(size_bytes), 0) FROM phrase_cache") ?? 0
            guard total > budget else { return [] }
            var victims: [PhraseCacheEntry] = []
            let cursor = try PhraseCacheEntry.filter(Column("pinned") == false)
                .order(Column("last_hit_at"), Column("id")).fetchCursor(db)
            while total > budget, let entry = try cursor.next() {
                victims.append(entry)
                total -= entry.sizeBytes
            }
            return victims
        }
    }
}
