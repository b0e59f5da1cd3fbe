import Foundation
import LocalStore

/// What `cache stats` prints: the cache's contents, hit rates by tier, and what it saved.
public struct PhraseCacheSummary: Sendable {
    public let statistics: PhraseCache.Statistics
    public let pricePerThousandCharacters: Double

    public init(statistics: PhraseCache.Statistics, pricePerThousandCharacters: Double) {
        self.statistics = statistics
        self.pricePerThousandCharacters = pricePerThousandCharacters
    }

    func count(_ counter: PhraseIndex.Counter) -> Int64 { statistics.counters[counter] ?? 0 }

    /// Lookups answered from memory or disk, over all lookups.
    public var hitRate: Double {
        let hits = count(.memoryHits) + count(.diskHits)
        let all = hits + count(.misses)
        return all == 0 ? 0 : Double(hits) / Double(all)
    }

    /// The money not spent on ElevenLabs because phrases came from the cache.
    public var moneySaved: Double {
        Double(count(.charactersSaved)) / 1000 * pricePerThousandCharacters
    }

    /// A table for a technician.
    public var table: String {
        let bytes = ByteCountFormatter.string(fromByteCount: statistics.bytes, countStyle: .file)
        let languages = statistics.languages.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
        let rows: [(String, String)] = [
            (
                "phrases cached",
                "\(statistics.entries) (\(statistics.pinned) pinned; \(languages.isEmpty ? "none" : languages))"
            ),
            ("bytes on disk", bytes),
            ("memory hits", "\(count(.memoryHits))"),
            ("disk hits", "\(count(.diskHits))"),
            ("misses", "\(count(.misses))"),
            ("hit rate", String(format: "%.1f %%", hitRate * 100)),
            ("characters sent to ElevenLabs", "\(count(.charactersSynthesized))"),
            ("characters not sent (cache hits)", "\(count(.charactersSaved))"),
            (
                "money saved",
                String(format: "%.2f (at %.2f per 1,000 characters)", moneySaved, pricePerThousandCharacters)
            ),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
            .joined(separator: "\n")
    }

    /// The same as JSON, for scripts.
    public var json: String {
        let object: [String: Any] = [
            "entries": statistics.entries, "pinned": statistics.pinned, "bytes": statistics.bytes,
            "memory_hits": count(.memoryHits), "disk_hits": count(.diskHits), "misses": count(.misses),
            "hit_rate": hitRate, "characters_synthesized": count(.charactersSynthesized),
            "characters_saved": count(.charactersSaved), "money_saved": moneySaved,
            "languages": statistics.languages,
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
