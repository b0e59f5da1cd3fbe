import Foundation
public import LocalStore
public import Logging
public import Sync

/// Runs the model's tool calls: parses and validates the arguments against the tool's schema, runs
/// the tool, turns every refusal or failure into `{"error": "..."}` for the model (never a crash or
/// a bad row), and records each execution with its arguments, result, status and duration.
public struct ToolRunner: Sendable {
    public let tools: [String: any AgentTool]
    let calls: CallLog
    let logger: Logger

    public init(tools: [any AgentTool], calls: CallLog, logger: Logger) {
        self.tools = Dictionary(uniqueKeysWithValues: tools.map { ($0.name, $0) })
        self.calls = calls
        self.logger = logger
    }

    /// The `tools` array of a chat completions request.
    public var declarations: JSONValue {
        .array(
            tools.keys.sorted().map { name in
                let tool = tools[name]!
                return [
                    "type": "function",
                    "function": [
                        "name": .string(tool.name), "description": .string(tool.description),
                        "parameters": tool.parameters.json,
                    ],
                ]
            })
    }

    /// Runs one call and returns the result text for the `tool` message.
    public func run(name: String, arguments: String, context: ToolContext, turnID: String? = nil) async -> String {
        let (text, execution) = await perform(name: name, arguments: arguments, context: context, turnID: turnID)
        do {
            try await calls.record(execution)
        } catch {
            logger.error("tool execution not recorded", metadata: ["tool.name": .string(name), "error": "\(error)"])
        }
        return text
    }

    /// Runs one call like ``run(name:arguments:context:turnID:)`` but leaves storing its execution row
    /// to the caller, so a live call can write it off the path between the caller and the answer.
    public func perform(name: String, arguments: String, context: ToolContext, turnID: String? = nil) async
        -> (result: String, execution: ToolExecution)
    {
        let started = Date()
        let clock = ContinuousClock()
        let start = clock.now
        let result: JSONValue
        let succeeded: Bool
        do {
            result = try await execute(name: name, arguments: arguments, context: context)
            succeeded = true
        } catch let error as ToolError {
            result = .object(error.details.merging(["error": .string(error.message)]) { $1 })
            succeeded = false
        } catch let error as ReservationError {
            var object: [String: JSONValue] = ["error": .string(error.message)]
            if let decision = error.decision { object["alternatives"] = Self.alternatives(decision) }
            result = .object(object)
            succeeded = false
        } catch {
            logger.error(
                "tool failed",
                metadata: ["tool.name": .string(name), "call.id": .string(context.callID), "error": "\(error)"])
            result = ["error": "the system could not complete this; apologise and offer to take a message"]
            succeeded = false
        }
        let elapsed = clock.now - start
        let milliseconds = Int(
            elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let text = result.jsonText
        let execution = ToolExecution(
            id: UUID().uuidString.lowercased(), callID: context.callID, turnID: turnID, tool: name,
            arguments: arguments, result: text, status: succeeded ? .ok : .error, startedAt: started.unixMilliseconds,
            durationMilliseconds: milliseconds)
        logger.info(
            "tool ran",
            metadata: [
                "tool.name": .string(name), "tool.status": .string(succeeded ? "ok" : "error"),
                "tool.duration_ms": .stringConvertible(milliseconds), "call.id": .string(context.callID),
            ])
        return (text, execution)
    }

    private func execute(name: String, arguments: String, context: ToolContext) async throws -> JSONValue {
        guard let tool = tools[name] else {
            throw ToolError("there is no tool named \(name); use one of \(tools.keys.sorted().joined(separator: ", "))")
        }
        let text = arguments.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let parsed = JSONValue.parse(text.isEmpty ? "{}" : text) else {
            throw ToolError("the arguments are not valid JSON; send a JSON object")
        }
        let problems = tool.parameters.violations(of: parsed)
        guard problems.isEmpty, case .object(let values) = parsed else {
            throw ToolError("invalid arguments: " + problems.joined(separator: "; "))
        }
        return try await tool.run(ToolArguments(values.filter { $0.value != .null }), context: context)
    }

    static func alternatives(_ decision: AvailabilityDecision) -> JSONValue {
        .array(
            decision.alternatives.map { ["date": .string($0.date.description), "time": .string($0.time.description)] })
    }
}
