import Foundation

/// The subset of JSON Schema the tools declare: typed properties, required names, enums, bounds,
/// string patterns and no unknown properties. It is both what the LLM is sent as `parameters` and
/// what every call's arguments are checked against before they touch the store.
public indirect enum JSONSchema: Sendable, Equatable {
    case object(properties: [String: JSONSchema], required: [String], description: String? = nil)
    case string(description: String, pattern: String? = nil, enumeration: [String]? = nil, maxLength: Int? = nil)
    case integer(description: String, minimum: Int? = nil, maximum: Int? = nil)
    case boolean(description: String)

    /// The schema as the JSON the model is given.
    public var json: JSONValue {
        switch self {
        case .object(let properties, let required, let description):
            var object: [String: JSONValue] = [
                "type": "object", "properties": .object(properties.mapValues(\.json)),
                "required": .array(required.sorted().map(JSONValue.string)), "additionalProperties": false,
            ]
            if let description { object["description"] = .string(description) }
            return .object(object)
        case .string(let description, let pattern, let enumeration, let maxLength):
            var object: [String: JSONValue] = ["type": "string", "description": .string(description)]
            if let pattern { object["pattern"] = .string(pattern) }
            if let enumeration { object["enum"] = .array(enumeration.map(JSONValue.string)) }
            if let maxLength { object["maxLength"] = .number(Double(maxLength)) }
            return .object(object)
        case .integer(let description, let minimum, let maximum):
            var object: [String: JSONValue] = ["type": "integer", "description": .string(description)]
            if let minimum { object["minimum"] = .number(Double(minimum)) }
            if let maximum { object["maximum"] = .number(Double(maximum)) }
            return .object(object)
        case .boolean(let description):
            return ["type": "boolean", "description": .string(description)]
        }
    }

    /// Every way `value` breaks the schema, as `path: problem` lines; empty when it conforms.
    public func violations(of value: JSONValue, at path: String = "arguments") -> [String] {
        switch (self, value) {
        case (.object(let properties, let required, _), .object(let object)):
            var problems = required.filter { object[$0] == nil || object[$0] == .null }.map {
                "\(path).\($0): required"
            }
            for (key, member) in object.sorted(by: { $0.key < $1.key }) {
                guard let schema = properties[key] else {
                    problems.append("\(path).\(key): unknown parameter")
                    continue
                }
                if member == .null && !required.contains(key) { continue }
                problems += schema.violations(of: member, at: "\(path).\(key)")
            }
            return problems
        case (.object, _):
            return ["\(path): must be an object"]
        case (.string(_, let pattern, let enumeration, let maxLength), .string(let text)):
            if let enumeration, !enumeration.contains(text) {
                return ["\(path): must be one of \(enumeration.joined(separator: ", "))"]
            }
            if let maxLength, text.count > maxLength { return ["\(path): longer than \(maxLength) characters"] }
            if let pattern, text.range(of: "^(?:\(pattern))$", options: .regularExpression) == nil {
                return ["\(path): must match \(pattern)"]
            }
            return []
        case (.string, _):
            return ["\(path): must be a string"]
        case (.integer(_, let minimum, let maximum), .number):
            guard let number = value.intValue else { return ["\(path): must be a whole number"] }
            if let minimum, number < minimum { return ["\(path): must be at least \(minimum)"] }
            if let maximum, number > maximum { return ["\(path): must be at most \(maximum)"] }
            return []
        case (.integer, _):
            return ["\(path): must be a whole number"]
        case (.boolean, .bool):
            return []
        case (.boolean, _):
            return ["\(path): must be true or false"]
        }
    }
}
