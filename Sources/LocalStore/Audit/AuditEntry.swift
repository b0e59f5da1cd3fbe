public import GRDB

/// One row of `audit_log`: who did what to which record, kept on the box for disputes and privacy requests.
public struct AuditEntry: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit_log"

    public var id: Int64?
    /// Unix milliseconds.
    public var at: Int64
    /// Who acted: `agent`, `keypad`, `staff`, `headquarters`, `technician`, `system`.
    public var actor: String
    /// What was done (`reservation.create`, `call.status`, ...).
    public var action: String
    /// The table (or thing) acted on.
    public var entity: String
    public var entityID: String?
    /// JSON object with non-personal details.
    public var details: String

    public init(
        id: Int64? = nil, at: Int64, actor: String, action: String, entity: String, entityID: String?,
        details: String = "{}"
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.entity = entity
        self.entityID = entityID
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case id
        case at
        case actor
        case action
        case entity
        case entityID = "entity_id"
        case details
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
