import Foundation
import Yams

/// Builds the ``AgentConfiguration`` from embedded defaults, one YAML (or JSON) file and the
/// environment, in that order of precedence (the environment wins).
public struct ConfigurationLoader: Sendable {
    /// The configuration with where each value came from.
    public struct Loaded: Sendable {
        public let configuration: AgentConfiguration
        /// Source of every setting, by key.
        public let sources: [String: ConfigurationSource]

        /// One line per setting, `key = value  (source)`, secrets masked, for `serve --check-config`.
        public var effectiveDescription: String {
            let width = AgentConfiguration.settings.map(\.key.count).max() ?? 0
            return AgentConfiguration.settings.map { setting in
                let value = setting.render(configuration) ?? "(unset)"
                let padded = setting.key.padding(toLength: width, withPad: " ", startingAt: 0)
                return "\(padded) = \(value)  [\(sources[setting.key] ?? .defaults); \(setting.environment)]"
            }.joined(separator: "\n")
        }
    }

    /// The file used when `--config` is not given, if it exists.
    public static let defaultFilePath = "/etc/edge-agent/config.yaml"

    /// Environment prefixes that belong to other programs and are not checked for typos.
    static let foreignPrefixes = ["EDGE_HQ_"]

    public init() {}

    /// Loads the configuration.
    ///
    /// - Parameters:
    ///   - filePath: the file named by `--config`; nil means ``defaultFilePath`` when it exists.
    ///   - environment: the process environment.
    public func load(filePath: String?, environment: [String: String]) throws(ConfigurationError) -> Loaded {
        var configuration = AgentConfiguration()
        var sources: [String: ConfigurationSource] = [:]
        let settingsByKey = Dictionary(uniqueKeysWithValues: AgentConfiguration.settings.map { ($0.key, $0) })

        let path =
            filePath ?? (FileManager.default.fileExists(atPath: Self.defaultFilePath) ? Self.defaultFilePath : nil)
        if let path {
            for entry in try Self.readFile(path) {
                guard let setting = settingsByKey[entry.key] else {
                    throw ConfigurationError(
                        "unknown key '\(entry.key)' in \(path) line \(entry.line)\(Self.suggestion(for: entry.key))")
                }
                let source = ConfigurationSource.file(path: path, line: entry.line)
                try Self.apply(setting, entry.value, source: source, to: &configuration)
                sources[setting.key] = source
            }
        }

        let settingsByEnvironment = Dictionary(
            uniqueKeysWithValues: AgentConfiguration.settings.map { ($0.environment, $0) })
        for name in environment.keys.sorted() where name.hasPrefix("EDGE_") && settingsByEnvironment[name] == nil {
            guard !Self.foreignPrefixes.contains(where: name.hasPrefix) || name == "EDGE_HQ_URL" else { continue }
            let known = Array(settingsByEnvironment.keys)
            throw ConfigurationError(
                "unknown environment variable \(name)\(Self.suggestion(for: name, among: known))")
        }
        for setting in AgentConfiguration.settings {
            guard let value = environment[setting.environment] else { continue }
            let source = ConfigurationSource.environment(name: setting.environment)
            try Self.apply(setting, value, source: source, to: &configuration)
            sources[setting.key] = source
        }
        return Loaded(configuration: try configuration.validated(), sources: sources)
    }

    private static func apply(
        _ setting: Setting, _ value: String, source: ConfigurationSource, to configuration: inout AgentConfiguration
    ) throws(ConfigurationError) {
        do {
            try setting.apply(&configuration, value.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            // Secrets are never echoed: their parsers do not put the value in the reason.
            throw ConfigurationError("\(setting.key) (\(source)): \(error.reason)")
        }
    }

    /// One scalar of the file: dotted key, value as text (lists joined with commas), line number.
    struct FileEntry: Equatable {
        let key: String
        let value: String
        let line: Int
    }

    /// Reads the file into dotted keys, naming the file and line of any syntax error.
    static func readFile(_ path: String) throws(ConfigurationError) -> [FileEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read configuration file \(path): check the path given to --config")
        }
        let text = String(decoding: data, as: UTF8.self)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError("\(path) is not valid YAML: \(describe(error))")
        } catch {
            throw ConfigurationError("\(path) is not valid YAML")
        }
        guard let root else { return [] }
        guard case .mapping = root else {
            throw ConfigurationError("\(path) must hold a mapping of settings (key: value) at its top level")
        }
        var entries: [FileEntry] = []
        try flatten(root, prefix: "", path: path, into: &entries)
        return entries
    }

    private static func flatten(_ node: Node, prefix: String, path: String, into entries: inout [FileEntry])
        throws(ConfigurationError)
    {
        let line = node.mark?.line ?? 0
        switch node {
        case .mapping(let mapping):
            for (keyNode, value) in mapping {
                guard case .scalar(let key) = keyNode else {
                    throw ConfigurationError("\(path) line \(keyNode.mark?.line ?? 0): keys must be plain words")
                }
                try flatten(
                    value, prefix: prefix.isEmpty ? key.string : "\(prefix).\(key.string)", path: path, into: &entries)
            }
        case .scalar(let scalar):
            let isNull = scalar.style == .plain && ["", "~", "null"].contains(scalar.string.lowercased())
            // A section whose settings are all commented out (`twilio:` alone) is an empty section.
            if isNull && AgentConfiguration.settings.contains(where: { $0.key.hasPrefix(prefix + ".") }) { return }
            entries.append(FileEntry(key: prefix, value: isNull ? "" : scalar.string, line: line))
        case .sequence(let sequence):
            let setting = AgentConfiguration.settings.first { $0.key == prefix }
            guard setting?.acceptsList ?? true else {
                throw ConfigurationError("\(path) line \(line): '\(prefix)' takes one value, not a list")
            }
            var items: [String] = []
            for item in sequence {
                // A mapping's own mark can sit before its first key; that key's line is the item's.
                let itemLine = item.mapping?.first?.key.mark?.line ?? item.mark?.line ?? line
                switch item {
                case .scalar(let scalar):
                    items.append(scalar.string)
                case .mapping where setting?.listItem != nil:
                    var fields: [FileEntry] = []
                    try flatten(item, prefix: "", path: path, into: &fields)
                    let values = Dictionary(fields.map { ($0.key, $0.value) }) { first, _ in first }
                    do {
                        try items.append(setting?.listItem?(values) ?? "")
                    } catch {
                        throw ConfigurationError("\(prefix) (\(path) line \(itemLine)): \(error.reason)")
                    }
                default:
                    throw ConfigurationError("\(path) line \(itemLine): '\(prefix)' must be a list of plain values")
                }
            }
            entries.append(FileEntry(key: prefix, value: items.joined(separator: ","), line: line))
        case .alias:
            throw ConfigurationError("\(path) line \(line): YAML aliases are not supported in configuration")
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicated key \(duplicates.joined(separator: ", "))"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "syntax error"
        }
    }

    /// ` (did you mean 'x'?)` for the closest known name, when one is close.
    static func suggestion(for name: String, among known: [String]? = nil) -> String {
        let candidates = known ?? AgentConfiguration.settings.map(\.key)
        let best = candidates.map { ($0, editDistance($0, name)) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= max(2, name.count / 4) else { return "" }
        return " (did you mean '\(best.0)'?)"
    }

    private static func editDistance(_ left: String, _ right: String) -> Int {
        let a = Array(left)
        let b = Array(right)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
