import Foundation
import Testing

@testable import LocalStore

@Suite("Menu catalog")
struct MenuCatalogTests {
    static let seedJSON = """
        {"currency": "USD", "items": [
          {"id": "soup", "category": "starters", "price_cents": 800, "allergens": ["celery"],
           "dietary_tags": ["vegetarian", "gluten_free"],
           "translations": {"en": {"name": "Tomato soup", "description": "Roasted tomatoes"},
                            "es": {"name": "Sopa de tomate", "description": "Tomates asados"}}},
          {"id": "steak", "category": "mains", "price_cents": 3200, "allergens": [], "dietary_tags": ["gluten_free"],
           "translations": {"en": {"name": "Steak", "description": "Grilled sirloin"},
                            "es": {"name": "Filete", "description": "Solomillo a la parrilla"}}}
        ]}
        """

    @Test("the seed loads once, on first start, and reads back in each language")
    func seedAndRead() async throws {
        let store = try TestStore()
        let catalog = MenuCatalog(database: store.database)
        let seed = try MenuSeed.decode(Data(Self.seedJSON.utf8), source: "test")
        #expect(try await catalog.seedIfEmpty(seed))
        #expect(try await !catalog.seedIfEmpty(seed))
        #expect(try await store.count("menu_items") == 2)
        #expect(try await store.count("menu_item_translations") == 4)

        let spanish = try await catalog.items(language: "es")
        #expect(spanish.map(\.name) == ["Sopa de tomate", "Filete"])
        #expect(spanish[0].item.allergens == ["celery"])
        #expect(try await catalog.items(language: "en", dietary: "vegetarian").map(\.name) == ["Tomato soup"])
        #expect(try await catalog.items(language: "en", category: "MAINS").map(\.item.priceCents) == [3200])
        // Menus belong to headquarters: seeding queues nothing for upload.
        #expect(try await store.count("outbox") == 0)
    }

    @Test(
        "a broken seed names the problem",
        arguments: [
            ("{", "not valid"),
            (
                #"{"currency": "USD", "items": [{"id": "a", "category": "x", "price_cents": 1, "allergens": [], "dietary_tags": [], "translations": {"en": {"name": "A", "description": ""}}}]}"#,
                "no 'es' translation"
            ),
            (
                #"{"currency": "USD", "items": [{"id": "a", "category": "x", "allergens": [], "dietary_tags": [], "translations": {}}]}"#,
                "missing 'price_cents'"
            ),
        ])
    func brokenSeed(json: String, expected: String) {
        #expect {
            try MenuSeed.decode(Data(json.utf8), source: "menu.json")
        } throws: { "\($0)".contains(expected) && "\($0)".contains("menu.json") }
    }
}
