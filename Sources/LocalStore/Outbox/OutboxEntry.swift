public import GRDB
public import Sync

/// One row of `outbox`: a change waiting to be sent to headquarters, written in the same
/// transaction as the change itself.
public struct OutboxEntry: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "outbox"

    public var id: Int64?
    public var tableName: String
    public var rowID: String
    public var operation: SyncOperation
    public var version: Int64
    /// The ``SyncChange`` as JSON.
    public var payload: String
    public var createdAt: Int64
    public var sentAt: Int64?
    public var attempts: Int
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case id
        case tableName = "table_name"
        case rowID = "row_id"
        case operation
        case version
        case payload
        case createdAt = "created_at"
        case sentAt = "sent_at"
        case attempts
        case lastError = "last_error"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
