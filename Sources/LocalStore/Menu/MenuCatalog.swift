import Foundation
import GRDB
public import Sync

/// The menu as callers hear it: items with their words in one language.
public struct MenuCatalog: Sendable {
    /// A menu item with its name and description in the asked language.
    public struct LocalizedItem: Sendable, Equatable {
        public let item: MenuItem
        public let language: String
        public let name: String
        public let description: String
    }

    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// Loads `seed` when the menu is empty (first start); returns whether it did. Headquarters owns the
    /// menu, so a seeded menu is not queued for upload: headquarters' menu replaces it on the first pull.
    @discardableResult
    public func seedIfEmpty(_ seed: MenuSeed) async throws -> Bool {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            guard try MenuItem.fetchCount(db) == 0 else { return false }
            for (index, entry) in seed.items.enumerated() {
                let item = MenuItem(
                    id: entry.id, category: entry.category, priceCents: entry.priceCents, currency: seed.currency,
                    allergens: entry.allergens, dietaryTags: entry.dietaryTags, sortOrder: index, updatedAt: now)
                try item.insert(db)
                for (language, words) in entry.translations.sorted(by: { $0.key < $1.key }) {
                    try MenuItemTranslation(
                        id: "\(entry.id):\(language)", menuItemID: entry.id, language: language, name: words.name,
                        description: words.description
                    ).insert(db)
                }
            }
            try AuditLog.record(
                actor: "system", action: "menu.seed", entity: SyncTable.menuItems.rawValue, entityID: nil,
                details: ["items": "\(seed.items.count)"], at: now, in: db)
            return true
        }
    }

    /// Available items in `language` (English words when a translation is missing), in menu order,
    /// optionally only one category and only items carrying a dietary tag.
    public func items(language: String, category: String? = nil, dietary: String? = nil) async throws
        -> [LocalizedItem]
    {
        try await database.read { db in
            var request = MenuItem.filter(Column("available") == true).order(Column("sort_order"), Column("id"))
            if let category {
                request = request.filter(Column("category").lowercased == category.lowercased())
            }
            let items = try request.fetchAll(db)
            let translations = try MenuItemTranslation.filter(items.map(\.id).contains(Column("menu_item_id")))
                .fetchAll(db)
            let words = Dictionary(grouping: translations, by: \.menuItemID)
            return items.compactMap { item -> LocalizedItem? in
                if let dietary, !item.dietaryTags.contains(dietary) { return nil }
                let options = words[item.id] ?? []
                guard
                    let chosen = options.first(where: { $0.language == language })
                        ?? options.first(where: { $0.language == "en" }) ?? options.first
                else { return nil }
                return LocalizedItem(
                    item: item, language: chosen.language, name: chosen.name, description: chosen.description)
            }
        }
    }
}
