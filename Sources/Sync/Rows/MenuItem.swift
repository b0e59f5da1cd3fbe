/// A dish or drink on the menu; its words in each language are ``MenuItemTranslation`` rows.
public struct MenuItem: Codable, Sendable, Equatable, Identifiable {
    public var id: String
    /// Section of the menu (`starters`, `mains`, `desserts`, `drinks`, ...).
    public var category: String
    /// Price in the currency's minor unit (cents).
    public var priceCents: Int
    /// ISO 4217 code.
    public var currency: String
    /// Allergen codes (`gluten`, `milk`, `nuts`, ...).
    public var allergens: [String]
    /// Dietary tags (`vegetarian`, `vegan`, `gluten_free`, ...).
    public var dietaryTags: [String]
    public var available: Bool
    public var sortOrder: Int
    public var version: Int64
    public var updatedAt: Int64

    public init(
        id: String, category: String, priceCents: Int, currency: String, allergens: [String] = [],
        dietaryTags: [String] = [], available: Bool = true, sortOrder: Int = 0, version: Int64 = 1, updatedAt: Int64
    ) {
        self.id = id
        self.category = category
        self.priceCents = priceCents
        self.currency = currency
        self.allergens = allergens
        self.dietaryTags = dietaryTags
        self.available = available
        self.sortOrder = sortOrder
        self.version = version
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case category
        case priceCents = "price_cents"
        case currency
        case allergens
        case dietaryTags = "dietary_tags"
        case available
        case sortOrder = "sort_order"
        case version
        case updatedAt = "updated_at"
    }
}

/// The name and description of a menu item in one language.
public struct MenuItemTranslation: Codable, Sendable, Equatable, Identifiable {
    public var id: String
    public var menuItemID: String
    /// `en` or `es`.
    public var language: String
    public var name: String
    public var description: String

    public init(id: String, menuItemID: String, language: String, name: String, description: String) {
        self.id = id
        self.menuItemID = menuItemID
        self.language = language
        self.name = name
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case id
        case menuItemID = "menu_item_id"
        case language
        case name
        case description
    }
}
