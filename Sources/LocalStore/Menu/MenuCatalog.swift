import Foundation
public import GRDB
public import Sync

/// The menu as callers hear it: items with their words in one language.
public struct MenuCatalog: Sendable {
    /// A menu item with its name and description in the asked language.
    public struct LocalizedItem: Sendable, Equatable {
        public let item: MenuItem
        public let language: String
        public let name: String
        public let description: String
        /// Whether callers are offered the item tonight (``MenuCatalog/setAvailable(itemID:available:actor:)``).
        public var available: Bool { item.available }
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
    /// optionally only one category and only items carrying a dietary tag. What the agent's `get_menu`
    /// offers callers: an item staff marked unavailable is left out.
    public func items(language: String, category: String? = nil, dietary: String? = nil) async throws
        -> [LocalizedItem]
    {
        try await localized(language: language, category: category, dietary: dietary, onlyAvailable: true)
    }

    /// Every item, available or not (see ``LocalizedItem/available``), in `language`, in menu order:
    /// the staff page's menu.
    public func allItems(language: String) async throws -> [LocalizedItem] {
        try await localized(language: language, category: nil, dietary: nil, onlyAvailable: false)
    }

    private func localized(language: String, category: String?, dietary: String?, onlyAvailable: Bool) async throws
        -> [LocalizedItem]
    {
        try await database.read { db in
            var request = MenuItem.order(Column("sort_order"), Column("id"))
            if onlyAvailable {
                request = request.filter(Column("available") == true)
            }
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

    /// Marks the item available or not for callers from now on ("86 the salmon"), audited under
    /// `actor`; returns false when there is no such item. The choice is kept as a local override of
    /// headquarters' menu for the item's current version: downloads of that version keep it, and a
    /// new version from headquarters replaces it (``merged(_:in:)``). The menu is headquarters', so
    /// nothing is queued for upload and the item's version is not changed.
    public func setAvailable(itemID: String, available: Bool, actor: String) async throws -> Bool {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            guard let item = try MenuItem.fetchOne(db, key: itemID) else { return false }
            try db.execute(
                sql: "UPDATE menu_items SET available = ? WHERE id = ?", arguments: [available, itemID])
            try MenuItemOverride(
                menuItemID: itemID, available: available, baseVersion: item.version, setAt: now, actor: actor
            ).save(db)
            try AuditLog.record(
                actor: actor, action: "menu.availability", entity: SyncTable.menuItems.rawValue, entityID: itemID,
                details: ["available": "\(available)", "version": "\(item.version)"], at: now, in: db)
            return true
        }
    }

    /// Headquarters' `item` as the box should store it, inside the download's transaction: when staff
    /// set the item's availability on the same version headquarters sends (headquarters did not change
    /// the item), the local availability is kept; when the version differs, headquarters' item wins
    /// whole and the override is deleted.
    public static func merged(_ item: MenuItem, in db: Database) throws -> MenuItem {
        guard let override = try MenuItemOverride.fetchOne(db, key: item.id) else { return item }
        guard override.baseVersion == item.version else {
            try override.delete(db)
            return item
        }
        var merged = item
        merged.available = override.available
        return merged
    }
}

/// A row of `menu_item_overrides`: staff's availability of one item, set on one version of it.
struct MenuItemOverride: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "menu_item_overrides"

    var menuItemID: String
    var available: Bool
    var baseVersion: Int64
    var setAt: Int64
    var actor: String

    enum CodingKeys: String, CodingKey {
        case menuItemID = "menu_item_id"
        case available
        case baseVersion = "base_version"
        case setAt = "set_at"
        case actor
    }
}
