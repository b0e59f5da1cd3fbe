/// A caller the restaurant knows, found by phone number.
public struct Customer: Codable, Sendable, Equatable, Identifiable {
    public var id: String
    /// E.164 phone number, unique per site.
    public var phone: String
    public var name: String?
    /// `en` or `es`, learnt from earlier calls.
    public var preferredLanguage: String?
    /// The party size this customer books most often.
    public var usualPartySize: Int?
    public var callCount: Int
    public var lastCallAt: Int64?
    public var notes: String?
    public var version: Int64
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        id: String, phone: String, name: String? = nil, preferredLanguage: String? = nil, usualPartySize: Int? = nil,
        callCount: Int = 0, lastCallAt: Int64? = nil, notes: String? = nil, version: Int64 = 1, createdAt: Int64,
        updatedAt: Int64
    ) {
        self.id = id
        self.phone = phone
        self.name = name
        self.preferredLanguage = preferredLanguage
        self.usualPartySize = usualPartySize
        self.callCount = callCount
        self.lastCallAt = lastCallAt
        self.notes = notes
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case phone
        case name
        case preferredLanguage = "preferred_language"
        case usualPartySize = "usual_party_size"
        case callCount = "call_count"
        case lastCallAt = "last_call_at"
        case notes
        case version
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
