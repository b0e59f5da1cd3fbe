import Foundation
public import Logging
import PostgresNIO
public import Sync

/// What a box downloads: headquarters' own writes for its site (menu items, their translations,
/// reservations made or won at headquarters, the booking settings, voicemails left while the box
/// was unreachable), in the order of the site's change counter.
public struct ChangeFeed: Sendable {
    let database: HQDatabase
    let logger: Logger

    public init(database: HQDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The tables headquarters writes for a site and its box downloads.
    static let downloadedTables: [SyncTable] = [
        .menuItems, .menuItemTranslations, .reservations, .siteSettings, .voicemails,
    ]

    /// The rows of every downloaded table after `cursor`, in the order of the site's change counter,
    /// one more than `limit` (to tell whether more follow).
    static func pageQuery(site: String, after cursor: Int64, limit: Int) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(site)
        binds.append(cursor)
        binds.append(limit + 1)
        return PostgresQuery(unsafeSQL: pageSQL, binds: binds)
    }

    /// The text of ``pageQuery(site:after:limit:)``, built once. Only table names go into it, and they
    /// are SyncTable's own constants; the values are bound.
    private static let pageSQL: String = {
        let feed = downloadedTables.map { table in
            "SELECT '\(table.rawValue)' AS table_name, id, version, changed_at, row, seq FROM \(table.rawValue) "
                + "WHERE site_id = $1 AND seq > $2"
        }
        return "SELECT table_name, id, version, changed_at, row::text, seq FROM ("
            + feed.joined(separator: " UNION ALL ") + ") feed ORDER BY seq LIMIT $3"
    }()

    /// At most `limit` changes after `cursor`.
    public func page(site: String, after cursor: Int64, limit: Int) async throws -> DownloadPage {
        var changes: [SyncChange] = []
        var last = cursor
        let decoder = JSONDecoder()
        let rows = try await database.query(Self.pageQuery(site: site, after: cursor, limit: limit), logger: logger)
        var more = false
        for try await (table, id, version, changedAt, json, seq) in rows.decode(
            (String, String, Int64, Int64, String, Int64).self)
        {
            guard changes.count < limit else {
                more = true
                continue
            }
            last = seq
            guard let syncTable = SyncTable(rawValue: table),
                let row = try? decoder.decode(RowDecoding.self, from: Data(json.utf8), configuration: syncTable).row
            else {
                // A row written at headquarters in a shape the box cannot read: skipped, loudly, rather
                // than stopping the site's downloads.
                logger.error(
                    "a row written at headquarters does not match the box's format; it is not sent",
                    metadata: ["sync.table": .string(table), "sync.row_id": .string(id), "site.id": .string(site)])
                continue
            }
            changes.append(
                SyncChange(
                    table: syncTable, rowID: id, operation: .upsert, version: version, changedAt: changedAt, row: row))
        }
        return DownloadPage(changes: changes, nextCursor: DownloadCursor.make(last), more: more)
    }
}

/// Decodes a stored row as the row of its table.
struct RowDecoding: DecodableWithConfiguration {
    let row: SyncRow

    init(from decoder: any Decoder, configuration table: SyncTable) throws {
        row = try SyncRow(table: table, from: decoder)
    }
}
