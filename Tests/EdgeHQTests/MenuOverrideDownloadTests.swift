import Crypto
import Foundation
import GRDB
import LocalStore
import Logging
import Sync
import Testing

@testable import SyncAgent

/// Staff's availability for the night against headquarters' menu downloads, without headquarters:
/// pages are applied as ``DownloadApplier`` applies what it downloads.
@Suite("Box: a downloaded menu item and staff's availability override")
struct MenuOverrideDownloadTests {
    struct Box {
        let folder = NSTemporaryDirectory() + "box-" + UUID().uuidString
        let database: EdgeDatabase
        let applier: DownloadApplier

        init() throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            database = try EdgeDatabase(dataDirectory: folder, logger: Logger(label: "box"))
            applier = DownloadApplier(
                session: SyncSession(
                    database: database,
                    client: try SyncClient(baseURL: "http://127.0.0.1:9", logger: Logger(label: "box")),
                    identity: DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey()),
                    link: HeadquartersLink(
                        url: "http://127.0.0.1:9", deviceID: "device", siteID: "site", siteName: "Site",
                        caCertificatePEM: nil), upstream: OutboxUploadTests.upstream(), logger: Logger(label: "box")))
        }

        func close() {
            try? database.close()
            try? FileManager.default.removeItem(atPath: folder)
        }

        func apply(_ items: [MenuItem], cursor: String) async throws -> DownloadApplier.Report {
            var report = DownloadApplier.Report()
            try await applier.apply(
                DownloadPage(
                    changes: items.map { .upsert(.menuItem($0), changedAt: 1_000) }, nextCursor: cursor, more: false),
                report: &report)
            return report
        }

        func item(_ id: String) async throws -> MenuItem? {
            try await database.read { db in try MenuItem.fetchOne(db, key: id) }
        }

        func overrides() async throws -> Int {
            try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM menu_item_overrides")! }
        }

        /// Salmon downloaded at version 3 with its English words, then switched off by staff (an override).
        func switchSalmonOff() async throws {
            _ = try await apply([MenuOverrideDownloadTests.salmon(version: 3)], cursor: "c1.1")
            try await database.write { db in try MenuOverrideDownloadTests.salmonWords.insert(db) }
            #expect(
                try await MenuCatalog(database: database).setAvailable(itemID: "salmon", available: false, actor: "cli")
            )
        }
    }

    static func salmon(version: Int64, available: Bool = true, price: Int = 2400) -> MenuItem {
        MenuItem(
            id: "salmon", category: "mains", priceCents: price, currency: "USD", available: available,
            version: version, updatedAt: version)
    }

    static let salmonWords = MenuItemTranslation(
        id: "salmon:en", menuItemID: "salmon", language: "en", name: "Salmon", description: "Grilled")

    @Test("headquarters sends the item again unchanged (same version): the box keeps it unavailable")
    func sameVersionKeepsLocal() async throws {
        let box = try Box()
        defer { box.close() }
        try await box.switchSalmonOff()

        let report = try await box.apply([Self.salmon(version: 3)], cursor: "c1.2")
        #expect(report.applied == 1)
        #expect(try await box.item("salmon")?.available == false)
        #expect(try await box.overrides() == 1)
        #expect(try await MenuCatalog(database: box.database).items(language: "en").isEmpty)
        #expect(try await MenuCatalog(database: box.database).allItems(language: "en").map(\.available) == [false])
    }

    @Test("headquarters changed the item (another version): its availability wins and the override goes")
    func newVersionWins() async throws {
        let box = try Box()
        defer { box.close() }
        try await box.switchSalmonOff()

        _ = try await box.apply([Self.salmon(version: 4, price: 2600)], cursor: "c1.2")
        #expect(try await box.item("salmon") == Self.salmon(version: 4, price: 2600))
        #expect(try await box.overrides() == 0)
        #expect(try await MenuCatalog(database: box.database).items(language: "en").map(\.item.id) == ["salmon"])

        // Headquarters itself took it off: that holds, with no override involved.
        _ = try await box.apply([Self.salmon(version: 5, available: false)], cursor: "c1.3")
        #expect(try await box.item("salmon")?.available == false)
        #expect(try await box.overrides() == 0)
    }
}
