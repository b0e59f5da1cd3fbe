/// A batch of outbox changes a box sends to headquarters in one request.
///
/// Headquarters applies a batch in one transaction and answers a repeated `idempotencyKey`
/// with the answer it gave the first time, so a batch retried after a lost answer is harmless.
public struct UploadBatch: Codable, Sendable, Equatable {
    /// Chosen by the box once per batch and reused on every retry of it.
    public var idempotencyKey: String
    /// The site the box believes it belongs to; headquarters refuses the whole batch when it is not
    /// the signing device's site.
    public var siteID: String
    /// The changes, oldest first.
    public var changes: [SyncChange]

    public init(idempotencyKey: String, siteID: String, changes: [SyncChange]) {
        self.idempotencyKey = idempotencyKey
        self.siteID = siteID
        self.changes = changes
    }

    enum CodingKeys: String, CodingKey {
        case idempotencyKey = "idempotency_key"
        case siteID = "site_id"
        case changes
    }
}

/// Headquarters' answer to an ``UploadBatch``: one result per change, in the batch's order.
public struct UploadResult: Codable, Sendable, Equatable {
    /// What became of one change.
    public enum Outcome: String, Codable, Sendable {
        /// Stored (or already stored at this version).
        case applied
        /// Headquarters holds a newer version; the box keeps its row and will receive the newer one.
        case superseded
        /// Refused for good (for example a row of another site); the box must not resend it.
        case rejected
    }

    /// The result of one change.
    public struct Row: Codable, Sendable, Equatable {
        public var table: SyncTable
        public var rowID: String
        public var version: Int64
        public var outcome: Outcome
        public var message: String?

        public init(table: SyncTable, rowID: String, version: Int64, outcome: Outcome, message: String? = nil) {
            self.table = table
            self.rowID = rowID
            self.version = version
            self.outcome = outcome
            self.message = message
        }

        enum CodingKeys: String, CodingKey {
            case table
            case rowID = "row_id"
            case version
            case outcome
            case message
        }
    }

    public var idempotencyKey: String
    public var rows: [Row]

    public init(idempotencyKey: String, rows: [Row]) {
        self.idempotencyKey = idempotencyKey
        self.rows = rows
    }

    enum CodingKeys: String, CodingKey {
        case idempotencyKey = "idempotency_key"
        case rows
    }
}
