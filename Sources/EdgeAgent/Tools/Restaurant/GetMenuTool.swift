import Foundation
public import LocalStore

/// `get_menu`: dishes with prices, allergens and dietary tags, in the caller's language.
public struct GetMenuTool: AgentTool {
    let catalog: MenuCatalog

    public init(catalog: MenuCatalog) {
        self.catalog = catalog
    }

    public let name = "get_menu"
    public let description =
        "Read the menu: names, descriptions, prices, allergens and dietary tags, in the caller's language. Filter by category (starters, mains, desserts, drinks) or dietary tag (vegetarian, vegan, gluten_free)."
    public let parameters = JSONSchema.object(
        properties: [
            "category": .string(
                description: "Menu section, for example starters, mains, desserts, drinks", maxLength: 40),
            "dietary": .string(
                description: "Only items with this tag", enumeration: ["vegetarian", "vegan", "gluten_free"]),
            "language": .string(
                description: "en or es; the caller's language when omitted", enumeration: ["en", "es"]),
        ],
        required: [])

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        let language = arguments.string("language") ?? context.language
        let items = try await catalog.items(
            language: language, category: arguments.string("category"), dietary: arguments.string("dietary"))
        return [
            "language": .string(language),
            "items": .array(
                items.map { entry in
                    [
                        "name": .string(entry.name), "description": .string(entry.description),
                        "category": .string(entry.item.category),
                        "price": .string(Self.price(cents: entry.item.priceCents)),
                        "currency": .string(entry.item.currency),
                        "allergens": .array(entry.item.allergens.map(JSONValue.string)),
                        "dietary": .array(entry.item.dietaryTags.map(JSONValue.string)),
                    ]
                }),
        ]
    }

    /// `1450` as `14.50`.
    static func price(cents: Int) -> String {
        String(format: "%d.%02d", cents / 100, cents % 100)
    }
}
