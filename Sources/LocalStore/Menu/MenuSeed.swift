public import Foundation

/// The menu a box starts with before headquarters sends its own: a JSON file, loaded on first start.
///
/// ```json
/// {"currency": "USD", "items": [{"id": "margherita", "category": "mains", "price_cents": 1400,
///   "allergens": ["gluten", "milk"], "dietary_tags": ["vegetarian"],
///   "translations": {"en": {"name": "Margherita", "description": "..."}, "es": {...}}}]}
/// ```
public struct MenuSeed: Decodable, Sendable, Equatable {
    /// One dish of the seed.
    public struct Item: Decodable, Sendable, Equatable {
        public var id: String
        public var category: String
        public var priceCents: Int
        public var allergens: [String]
        public var dietaryTags: [String]
        public var translations: [String: Words]

        enum CodingKeys: String, CodingKey {
            case id
            case category
            case priceCents = "price_cents"
            case allergens
            case dietaryTags = "dietary_tags"
            case translations
        }
    }

    /// A dish's name and description in one language.
    public struct Words: Decodable, Sendable, Equatable {
        public var name: String
        public var description: String
    }

    public var currency: String
    public var items: [Item]

    /// The languages every item must be translated into.
    public static let languages = ["en", "es"]

    /// Decodes and checks a seed file, naming the file and the problem when it is wrong.
    public static func load(from url: URL) throws -> MenuSeed {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw StoreError(.invalidSeed, "cannot read the seed menu \(url.path): check the menu.seed_file setting")
        }
        return try decode(data, source: url.path)
    }

    /// Decodes and checks seed JSON; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws -> MenuSeed {
        let seed: MenuSeed
        do {
            seed = try JSONDecoder().decode(MenuSeed.self, from: data)
        } catch let error as DecodingError {
            throw StoreError(.invalidSeed, "seed menu \(source) is not valid: \(Self.describe(error))")
        } catch {
            throw StoreError(.invalidSeed, "seed menu \(source) is not valid JSON")
        }
        guard seed.currency.count == 3 else {
            throw StoreError(.invalidSeed, "seed menu \(source): currency must be a 3-letter ISO 4217 code")
        }
        var seen = Set<String>()
        for item in seed.items {
            guard seen.insert(item.id).inserted else {
                throw StoreError(.invalidSeed, "seed menu \(source): item id '\(item.id)' appears twice")
            }
            guard item.priceCents >= 0 else {
                throw StoreError(.invalidSeed, "seed menu \(source): item '\(item.id)' has a negative price")
            }
            for language in languages where item.translations[language] == nil {
                throw StoreError(
                    .invalidSeed, "seed menu \(source): item '\(item.id)' has no '\(language)' translation")
            }
        }
        return seed
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing '\(key.stringValue)' at \(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription) at \(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
