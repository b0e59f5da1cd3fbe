import Foundation
import Yams

extension PhraseCatalog {
    /// The shipped catalogs, one per language, or those in `folder` (`<language>.yaml`) when set.
    /// Fails with a ``StartupError`` naming the file and line of any mistake.
    public static func load(folder: String? = nil) throws -> [String: PhraseCatalog] {
        var catalogs: [String: PhraseCatalog] = [:]
        for language in PhraseBook.languages {
            let url: URL
            if let folder {
                url = URL(fileURLWithPath: folder).appendingPathComponent("\(language).yaml")
            } else {
                guard
                    let shipped = Bundle.module.url(
                        forResource: language, withExtension: "yaml", subdirectory: "catalog")
                else {
                    throw StartupError("the phrase catalog catalog/\(language).yaml is missing from the installation")
                }
                url = shipped
            }
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw StartupError("cannot read the phrase catalog \(url.path)")
            }
            let catalog = try parse(text, path: url.path)
            guard catalog.language == language else {
                throw StartupError("\(url.path): 'language' is \(catalog.language), expected \(language)")
            }
            catalogs[language] = catalog
        }
        return catalogs
    }

    /// Reads one catalog file's text.
    static func parse(_ text: String, path: String) throws -> PhraseCatalog {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw StartupError("\(path) is empty") }
            root = node
        } catch let error as YamlError {
            throw StartupError("\(path): \(describe(error)); fix the phrase catalog")
        }
        let file = CatalogNode(node: root, path: path, name: "the file")
        let templates = try file.child("templates").stringMap()
        for (name, placeholders) in templatePlaceholders {
            guard let template = templates[name] else {
                throw StartupError("\(path) line \(file.child("templates").line): 'templates' has no '\(name)'")
            }
            guard PhraseBook.placeholders(template) == placeholders else {
                throw StartupError(
                    "\(path) line \(file.child("templates").child(name).line): template '\(name)' must use the "
                        + "placeholders \(placeholders.sorted())")
            }
        }
        let words = try file.child("words").stringMap()
        for word in requiredWords where words[word] == nil {
            throw StartupError("\(path) line \(file.child("words").line): 'words' has no '\(word)'")
        }
        let time = file.child("time")
        let periods = try time.child("periods").intMap().sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return PhraseCatalog(
            language: try file.child("language").string(),
            phrases: try file.child("phrases").strings(),
            templates: templates,
            words: words,
            numbers: try file.child("numbers").strings(count: 101),
            ordinals: try file.child("ordinals").strings(count: 31),
            weekdays: try file.child("weekdays").strings(count: 7),
            months: try file.child("months").strings(count: 12),
            time: TimeWords(
                onTheHour: try time.child("on_the_hour").string(),
                withMinutes: try time.child("with_minutes").string(),
                hours: try time.child("hours").intMap(),
                minutes: try time.child("minutes").intMap(),
                articles: time.has("articles") ? try time.child("articles").stringMap() : [:],
                periods: periods,
                noon: try time.child("noon").string(),
                midnight: try time.child("midnight").string()),
            partySizes: file.has("party_sizes") ? try file.child("party_sizes").intMap() : [:])
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        default:
            return "\(error)"
        }
    }
}

/// A node of a catalog file, with its path for error messages that name the file and line.
private struct CatalogNode {
    let node: Node?
    let path: String
    let name: String
    let parentLine: Int

    init(node: Node?, path: String, name: String, parentLine: Int = 1) {
        self.node = node
        self.path = path
        self.name = name
        self.parentLine = parentLine
    }

    var line: Int { node?.mark?.line ?? parentLine }

    func has(_ key: String) -> Bool { node?.mapping?[key] != nil }

    func child(_ key: String) -> CatalogNode {
        CatalogNode(node: node?.mapping?[key], path: path, name: "'\(key)'", parentLine: line)
    }

    private func fail(_ expected: String) -> StartupError {
        node == nil
            ? StartupError("\(path) line \(line): \(name) is missing; it must be \(expected)")
            : StartupError("\(path) line \(line): \(name) must be \(expected)")
    }

    func string() throws -> String {
        guard let scalar = node?.scalar, !scalar.string.isEmpty else { throw fail("a text") }
        return scalar.string
    }

    func strings(count: Int? = nil) throws -> [String] {
        let expected = count.map { "a list of \($0) texts" } ?? "a list of texts"
        guard let sequence = node?.sequence else { throw fail(expected) }
        var result: [String] = []
        for item in sequence {
            guard let text = item.scalar?.string, !text.isEmpty else {
                throw StartupError("\(path) line \(item.mark?.line ?? line): \(name) must hold only texts")
            }
            result.append(text)
        }
        if let count, result.count != count {
            throw StartupError("\(path) line \(line): \(name) has \(result.count) entries, expected \(count)")
        }
        return result
    }

    func stringMap() throws -> [String: String] {
        guard let mapping = node?.mapping else { throw fail("a mapping of names to texts") }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string, let text = value.scalar?.string else {
                throw StartupError("\(path) line \(key.mark?.line ?? line): \(name) must map names to texts")
            }
            result[name] = text
        }
        return result
    }

    func intMap() throws -> [Int: String] {
        guard let mapping = node?.mapping else { throw fail("a mapping of numbers to texts") }
        var result: [Int: String] = [:]
        for (key, value) in mapping {
            guard let number = key.scalar.flatMap({ Int($0.string) }), let text = value.scalar?.string else {
                throw StartupError("\(path) line \(key.mark?.line ?? line): \(name) must map numbers to texts")
            }
            result[number] = text
        }
        return result
    }
}
