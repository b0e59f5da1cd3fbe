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

    static let table = JSONRowTable<SiteSettings>(name: "site_settings", timestampColumn: "changed_at")

    static func current(in db: Database) throws -> SiteSettings? {
        try table.fetch(SiteSettings.singletonID, in: db)
    }

    /// Stores `settings` inside the caller's transaction (a download page commits with them), unless
    /// a newer version is already stored.
    public static func save(_ settings: SiteSettings, changedAt: Int64, in db: Database) throws {
        try table.save(
            settings, id: settings.id, version: settings.version, at: changedAt, unlessNewerStored: true, in: db)
    }
}
