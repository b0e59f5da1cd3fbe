import Foundation

/// What a tool knows about the call it runs in.
public struct ToolContext: Sendable {
    /// The call's id (`calls.id`).
    public var callID: String
    /// The caller's number from Twilio (E.164 when it is a phone).
    public var callerPhone: String?
    /// Twilio's CallSid, for call control.
    public var callSid: String?
    /// `en` or `es`: the language the caller is being answered in.
    public var language: String

    public init(callID: String, callerPhone: String?, callSid: String?, language: String) {
        self.callID = callID
        self.callerPhone = callerPhone
        self.callSid = callSid
        self.language = language
    }
}

/// A function the LLM may call. Arguments reach ``run(_:context:)`` only after they have passed
/// ``parameters``; a rule the schema cannot express is reported by throwing ``ToolError``.
public protocol AgentTool: Sendable {
    /// The function name the model uses (`create_reservation`).
    var name: String { get }
    /// What the model is told the tool does.
    var description: String { get }
    /// The JSON Schema of the arguments; the model is given it, and every call is checked against it.
    var parameters: JSONSchema { get }
    /// Runs the tool and returns the JSON result the model reads.
    func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue
}

/// A refusal the model should read and act on (ask again, offer something else): it becomes
/// `{"error": "..."}` in the tool result. Messages hold no personal data.
public struct ToolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// Extra members of the result next to `error` (for example `alternatives`).
    public let details: [String: JSONValue]

    public init(_ message: String, details: [String: JSONValue] = [:]) {
        self.message = message
        self.details = details
    }

    public var description: String { message }
}

/// Validated arguments with typed accessors.
public struct ToolArguments: Sendable {
    public let values: [String: JSONValue]

    public init(_ values: [String: JSONValue]) {
        self.values = values
    }

    public func string(_ name: String) -> String? {
        values[name]?.stringValue.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
            $0.isEmpty ? nil : $0
        }
    }

    public func integer(_ name: String) -> Int? { values[name]?.intValue }
}
