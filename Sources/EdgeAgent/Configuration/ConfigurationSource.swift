/// Where a setting's value came from, shown by `serve --check-config` and in errors.
public enum ConfigurationSource: Sendable, Equatable, CustomStringConvertible {
    case defaults
    case file(path: String, line: Int)
    case environment(name: String)

    public var description: String {
        switch self {
        case .defaults: "default"
        case .file(let path, let line): "\(path) line \(line)"
        case .environment(let name): "environment \(name)"
        }
    }
}
