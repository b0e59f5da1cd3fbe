import Foundation
import LocalStore

/// One configuration setting: its key in the file, its environment variable, how to parse a value
/// into ``AgentConfiguration`` and how to show it back.
struct Setting: Sendable {
    /// Dotted path in the YAML file (`http.port`).
    let key: String
    /// Environment variable that overrides it (`EDGE_HTTP_PORT`).
    let environment: String
    /// Whether the value is a credential, masked everywhere.
    let isSecret: Bool
    /// Whether the file may give a YAML list (joined with commas).
    var acceptsList = false
    /// How an item of such a list given as a mapping becomes one item of text: it is handed the
    /// mapping's scalars by dotted key (`settings.speed`); nil when items must be plain values.
    var listItem: (@Sendable ([String: String]) throws(SettingError) -> String)?
    /// Parses `raw` into the configuration; throws a message (without the value when secret).
    let apply: @Sendable (inout AgentConfiguration, String) throws(SettingError) -> Void
    /// The effective value for `--check-config`; nil when unset.
    let render: @Sendable (AgentConfiguration) -> String?

    /// Why a value was refused; the loader adds the key and source.
    struct SettingError: Error {
        let reason: String
    }
}

extension Setting {
    /// A setting whose text `parse` turns into the value at `path`, and `render` shows back.
    ///
    /// Every typed factory below is this with its own parser; a parser throws the reason a value
    /// was refused, and the loader adds the key and where the value came from.
    static func parsed<Value>(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, Value> & Sendable,
        isSecret: Bool = false,
        parse: @escaping @Sendable (String) throws(SettingError) -> Value,
        render: @escaping @Sendable (Value) -> String?
    ) -> Setting {
        Setting(
            key: key, environment: environment, isSecret: isSecret,
            apply: { configuration, raw throws(SettingError) in configuration[keyPath: path] = try parse(raw) },
            render: { render($0[keyPath: path]) })
    }

    static func string(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, String> & Sendable
    ) -> Setting {
        parsed(
            key, environment, path,
            parse: { raw throws(SettingError) in
                guard !raw.isEmpty else { throw SettingError(reason: "must not be empty") }
                return raw
            }, render: { $0 })
    }

    static func optionalString(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, String?> & Sendable
    ) -> Setting {
        parsed(key, environment, path, parse: { $0.isEmpty ? nil : $0 }, render: { $0 })
    }

    static func secret(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, Secret?> & Sendable
    ) -> Setting {
        parsed(
            key, environment, path, isSecret: true, parse: { $0.isEmpty ? nil : Secret($0) },
            render: { $0?.description })
    }

    /// A phone number in E.164 form, or none when empty; `reason` says why a value was refused.
    static func optionalPhone(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, String?> & Sendable,
        reason: @escaping @Sendable (String) -> String
    ) -> Setting {
        parsed(
            key, environment, path,
            parse: { raw throws(SettingError) in
                guard !raw.isEmpty else { return nil }
                guard let number = PhoneNumber.e164(raw) else { throw SettingError(reason: reason(raw)) }
                return number
            }, render: { $0 })
    }

    static func integer(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, Int> & Sendable,
        in range: ClosedRange<Int>
    ) -> Setting {
        parsed(
            key, environment, path, parse: { raw throws(SettingError) in try parseInteger(raw, in: range) },
            render: { "\($0)" })
    }

    /// A whole number within `range`, or the error that says so.
    static func parseInteger(_ raw: String, in range: ClosedRange<Int>) throws(SettingError) -> Int {
        guard let value = Int(raw), range.contains(value) else {
            throw SettingError(reason: "'\(raw)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    static func seconds(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, Double> & Sendable,
        in range: ClosedRange<Double>
    ) -> Setting {
        parsed(
            key, environment, path,
            parse: { raw throws(SettingError) in
                guard let value = Double(raw), range.contains(value) else {
                    throw SettingError(
                        reason: "'\(raw)' is not a number of seconds from \(range.lowerBound) to \(range.upperBound)")
                }
                return value
            }, render: { "\($0)" })
    }

    static func url(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, URL> & Sendable,
        schemes: Set<String>
    ) -> Setting {
        parsed(
            key, environment, path, parse: { raw throws(SettingError) in try parseURL(raw, schemes: schemes) },
            render: { $0.absoluteString })
    }

    static func optionalURL(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, URL?> & Sendable,
        schemes: Set<String>
    ) -> Setting {
        parsed(
            key, environment, path,
            parse: { raw throws(SettingError) in raw.isEmpty ? nil : try parseURL(raw, schemes: schemes) },
            render: { $0?.absoluteString })
    }

    static func choice(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, String> & Sendable,
        among: [String]
    ) -> Setting {
        parsed(
            key, environment, path,
            parse: { raw throws(SettingError) in
                let value = raw.lowercased()
                guard among.contains(value) else {
                    throw SettingError(reason: "'\(raw)' is not one of \(among.joined(separator: ", "))")
                }
                return value
            }, render: { $0 })
    }

    /// `true`/`yes`/`1`/`on` or `false`/`no`/`0`/`off`, in any case.
    static func flag(
        _ key: String, _ environment: String, _ path: any WritableKeyPath<AgentConfiguration, Bool> & Sendable
    ) -> Setting {
        parsed(
            key, environment, path,
            parse: { raw throws(SettingError) in
                switch raw.lowercased() {
                case "true", "yes", "1", "on": return true
                case "false", "no", "0", "off": return false
                default: throw SettingError(reason: "'\(raw)' is not true or false")
                }
            }, render: { "\($0)" })
    }

    /// Parses a base URL: the scheme must be one of `schemes`, a host is required, and credentials,
    /// queries and fragments are refused (they would leak into logs or break URLs built from it).
    /// The value is not repeated in the error, since a URL may carry a password.
    static func parseURL(_ raw: String, schemes: Set<String>) throws(SettingError) -> URL {
        let expected = schemes.sorted().map { "\($0)://" }.joined(separator: " or ")
        guard let components = URLComponents(string: raw), let url = components.url,
            let scheme = components.scheme?.lowercased(), schemes.contains(scheme), let host = components.host,
            !host.isEmpty
        else {
            throw SettingError(reason: "is not a URL starting with \(expected)")
        }
        guard components.user == nil, components.password == nil else {
            throw SettingError(reason: "must not contain a user name or password; put credentials in their own setting")
        }
        guard components.query == nil, components.fragment == nil else {
            throw SettingError(reason: "must not contain a query (?...) or fragment (#...)")
        }
        return url
    }
}
