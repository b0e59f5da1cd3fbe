import Foundation
import GRDB
import Sync
import Testing

@testable import LocalStore

@Suite("Menu availability for the night")
struct MenuAvailabilityTests {
    func seeded() async throws -> (TestStore, MenuCatalog) {
        let store = try TestStore()
        let catalog = MenuCatalog(database: store.database)
        #expect(try await catalog.seedIfEmpty(MenuSeed.decode(Data(MenuCatalogTests.seedJSON.utf8), source: "test")))
        return (store, catalog)
    }

    @Test("86 an item: get_menu leaves it out at once, the staff list shows it unavailable, audited, not uploaded")
    func eightySix() async throws {
        let (store, catalog) = try await seeded()
        #expect(try await catalog.setAvailable(itemID: "soup", available: false, actor: "token:maria"))
        #expect(try await catalog.items(language: "en").map(\.item.id) == ["steak"])
        #expect(try await catalog.items(language: "en", dietary: "vegetarian").isEmpty)
        let all = try await catalog.allItems(language: "es")
        #expect(all.map(\.name) == ["Sopa de tomate", "Filete"])
        #expect(all.map(\.available) == [false, true])

        let (override, audit, version) = try await store.database.read { db in
            (
                try MenuItemOverride.fetchOne(db, key: "soup"),
                try AuditLog.entries(entity: "menu_items", entityID: "soup", in: db),
                try Int64.fetchOne(db, sql: "SELECT version FROM menu_items WHERE id = 'soup'")
            )
        }
        #expect(
            override
                == MenuItemOverride(
                    menuItemID: "soup", available: false, baseVersion: 1, setAt: referenceNow.unixMilliseconds,
                    actor: "token:maria"))
        #expect(audit.map(\.action) == ["menu.availability"])
        #expect(audit.first?.actor == "token:maria")
        #expect(audit.first?.details == #"{"available":"false","version":"1"}"#)
        #expect(version == 1)
        #expect(try await store.count("outbox") == 0)

        #expect(try await catalog.setAvailable(itemID: "soup", available: true, actor: "cli"))
        #expect(try await catalog.items(language: "en").map(\.item.id) == ["soup", "steak"])
        #expect(try await store.count("menu_item_overrides") == 1)

        #expect(try await !catalog.setAvailable(itemID: "salmon", available: false, actor: "cli"))
        #expect(try await store.count("menu_item_overrides") == 1)
    }

    @Test("headquarters' same version keeps the local availability; a new version wins and drops the override")
    func mergeRule() async throws {
        let (store, catalog) = try await seeded()
        _ = try await catalog.setAvailable(itemID: "soup", available: false, actor: "cli")
        let fromHQ = MenuItem(
            id: "soup", category: "starters", priceCents: 850, currency: "USD", available: true, version: 1,
            updatedAt: 5)
        let same = try await store.database.write { db in try MenuCatalog.merged(fromHQ, in: db) }
        #expect(same.available == false && same.priceCents == 850)
        #expect(try await store.count("menu_item_overrides") == 1)

        let changed = MenuItem(
            id: "soup", category: "starters", priceCents: 850, currency: "USD", available: true, version: 2,
            updatedAt: 6)
        let newer = try await store.database.write { db in try MenuCatalog.merged(changed, in: db) }
        #expect(newer == changed)
        #expect(try await store.count("menu_item_overrides") == 0)

        // No override: headquarters' item as sent.
        let plain = try await store.database.write { db in try MenuCatalog.merged(changed, in: db) }
        #expect(plain == changed)
    }
}
