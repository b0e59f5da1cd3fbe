public import GRDB

/// One cached phrase: the index row of an audio file in the phrase cache folder.
public struct PhraseCacheEntry: Codable, Sendable, Equatable, Identifiable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "phrase_cache"

    /// The cache key: SHA-256 (hex) of everything that shapes the audio, and the file's name.
    public var id: String
    /// The normalised text, for `cache stats` and technicians (never personal data: such text is not cached).
    public var text: String
    public var language: String
    public var voice: String
    public var provider: String
    public var outputFormat: String
    public var sizeBytes: Int64
    public var createdAt: Int64
    public var lastHitAt: Int64
    public var hitCount: Int64
    /// Catalog phrases are pinned: the size budget never evicts them.
    public var pinned: Bool

    public init(
        id: String, text: String, language: String, voice: String, provider: String, outputFormat: String,
        sizeBytes: Int64, createdAt: Int64, lastHitAt: Int64, hitCount: Int64 = 0, pinned: Bool
    ) {
        self.id = id
        self.text = text
        self.language = language
        self.voice = voice
        self.provider = provider
        self.outputFormat = outputFormat
        self.sizeBytes = sizeBytes
        self.createdAt = createdAt
        self.lastHitAt = lastHitAt
        self.hitCount = hitCount
        self.pinned = pinned
    }

    enum CodingKeys: String, CodingKey {
        case id, text, language, voice, provider, pinned
        case outputFormat = "output_format"
        case sizeBytes = "size_bytes"
        case createdAt = "created_at"
        case lastHitAt = "last_hit_at"
        case hitCount = "hit_count"
    }
}
