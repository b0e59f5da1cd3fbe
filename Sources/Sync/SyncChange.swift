/// One change of one row, as the box's outbox stores it and as it travels to headquarters.
///
/// `version` grows by one with every local write of the row, so that headquarters can tell
/// a repeated or out-of-order delivery from a newer one.
public struct SyncChange: Codable, Sendable, Equatable {
    /// The table the row belongs to.
    public var table: SyncTable
    /// The row's primary key.
    public var rowID: String
    /// What happened to the row.
    public var operation: SyncOperation
    /// The row's version after this change.
    public var version: Int64
    /// When the change was made on the box, in Unix milliseconds (UTC).
    public var changedAt: Int64
    /// The whole row after the change; nil for deletes and erasures.
    public var row: SyncRow?

    /// Makes an upsert carrying the whole row.
    public static func upsert(_ row: SyncRow, changedAt: Int64) -> SyncChange {
        SyncChange(
            table: row.table, rowID: row.rowID, operation: .upsert, version: row.version, changedAt: changedAt,
            row: row)
    }

    /// Makes a change; for upserts `row` must be the row of `table` with id `rowID`.
    public init(
        table: SyncTable, rowID: String, operation: SyncOperation, version: Int64, changedAt: Int64, row: SyncRow?
    ) {
        self.table = table
        self.rowID = rowID
        self.operation = operation
        self.version = version
        self.changedAt = changedAt
        self.row = row
    }

    enum CodingKeys: String, CodingKey {
        case table
        case rowID = "row_id"
        case operation
        case version
        case changedAt = "changed_at"
        case row
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        table = try container.decode(SyncTable.self, forKey: .table)
        rowID = try container.decode(String.self, forKey: .rowID)
        operation = try container.decode(SyncOperation.self, forKey: .operation)
        version = try container.decode(Int64.self, forKey: .version)
        changedAt = try container.decode(Int64.self, forKey: .changedAt)
        if container.contains(.row), try !container.decodeNil(forKey: .row) {
            row = try SyncRow(table: table, from: container.superDecoder(forKey: .row))
        } else {
            row = nil
        }
        try validate(codingPath: container.codingPath)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(table, forKey: .table)
        try container.encode(rowID, forKey: .rowID)
        try container.encode(operation, forKey: .operation)
        try container.encode(version, forKey: .version)
        try container.encode(changedAt, forKey: .changedAt)
        if let row {
            try row.encodeRow(to: container.superEncoder(forKey: .row))
        } else {
            try container.encodeNil(forKey: .row)
        }
    }

    /// Refuses a change whose parts contradict each other, so a malformed one never reaches a table.
    private func validate(codingPath: [any CodingKey]) throws {
        func fail(_ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
        }
        switch (operation, row) {
        case (.upsert, nil):
            throw fail("an upsert of \(table.rawValue) \(rowID) carries no row")
        case (.upsert, let row?) where row.rowID != rowID:
            throw fail("the row's id does not match row_id \(rowID)")
        case (.delete, _?), (.erase, _?):
            throw fail("a \(operation.rawValue) must not carry a row")
        default:
            break
        }
        guard version >= 1 else { throw fail("version must be at least 1") }
    }
}
