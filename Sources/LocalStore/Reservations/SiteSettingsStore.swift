import Foundation
public import GRDB
public import Sync

/// The settings headquarters last sent (`site_settings`, one row), kept so the box starts with them
/// when headquarters is away.
public struct SiteSettingsStore: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// The stored settings, if headquarters ever sent any.
    public func current() async throws -> SiteSettings? {
        try await database.read { db in try Self.current(in: db) }
    }

    static func current(in db: Database) throws -> SiteSettings? {
        guard
            let json = try String.fetchOne(
                db, sql: "SELECT row FROM site_settings WHERE id = ?", arguments: [SiteSettings.singletonID])
        else { return nil }
        return try JSONDecoder().decode(SiteSettings.self, from: Data(json.utf8))
    }

    /// Stores `settings` inside the caller's transaction (a download page commits with them), unless
    /// a newer version is already stored.
    public static func save(_ settings: SiteSettings, changedAt: Int64, in db: Database) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(settings), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO site_settings (id, version, changed_at, row) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET version = excluded.version, changed_at = excluded.changed_at,
                    row = excluded.row
                WHERE excluded.version >= site_settings.version
                """, arguments: [settings.id, settings.version, changedAt, json])
    }
}
