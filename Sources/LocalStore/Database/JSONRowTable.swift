import Foundation
import GRDB

/// A table that keeps whole values as JSON, one row per id: `(id, version, <timestamp column>, row)`.
/// `site_settings` and `daily_call_summaries` are such tables; the value's own fields stay in `row`, so
/// a field added at headquarters needs no migration on the box.
struct JSONRowTable<Value: Codable> {
    /// The table's name (a constant of the code, never input).
    let name: String
    /// The column of the time of the change: `changed_at` or `updated_at`.
    let timestampColumn: String

    /// The value stored under `id`, if any.
    func fetch(_ id: String, in db: Database) throws -> Value? {
        guard let json = try String.fetchOne(db, sql: "SELECT row FROM \(name) WHERE id = ?", arguments: [id]) else {
            return nil
        }
        return try JSONDecoder().decode(Value.self, from: Data(json.utf8))
    }

    /// Stores `value` under `id` with `version`, inside the caller's transaction.
    ///
    /// - Parameter unlessNewerStored: keep the stored row when its version is higher.
    func save(
        _ value: Value, id: String, version: Int64, at timestamp: Int64, unlessNewerStored: Bool = false,
        in db: Database
    ) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(value), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO \(name) (id, version, \(timestampColumn), row) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                    \(timestampColumn) = excluded.\(timestampColumn), row = excluded.row
                \(unlessNewerStored ? "WHERE excluded.version >= \(name).version" : "")
                """, arguments: [id, version, timestamp, json])
    }
}
