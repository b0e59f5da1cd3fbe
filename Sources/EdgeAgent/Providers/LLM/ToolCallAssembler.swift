/// Joins the fragments of streamed tool calls: each fragment names its call by `index`; the first
/// carries the id and the function name, and the arguments arrive as text pieces to concatenate in order.
public struct ToolCallAssembler: Sendable {
    private var calls: [Int: (id: String, name: String, arguments: String)] = [:]

    public init() {}

    /// Adds one `delta.tool_calls[]` element.
    public mutating func add(index: Int, id: String?, name: String?, argumentsFragment: String?) {
        var call = calls[index] ?? ("", "", "")
        if let id, !id.isEmpty { call.id = id }
        if let name, !name.isEmpty { call.name += call.name.isEmpty ? name : "" }
        if let argumentsFragment { call.arguments += argumentsFragment }
        calls[index] = call
    }

    public var isEmpty: Bool { calls.isEmpty }

    /// The calls, in index order.
    public var toolCalls: [ToolCall] {
        calls.keys.sorted().map { index in
            let call = calls[index]!
            return ToolCall(id: call.id.isEmpty ? "call_\(index)" : call.id, name: call.name, arguments: call.arguments)
        }
    }
}
