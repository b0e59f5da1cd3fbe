/// The conversation memory of a call: the message history, kept within a budget.
public enum ConversationHistory {
    /// `messages` without their oldest exchanges, whole, until they fit in `budget` characters; a tool
    /// result never stays without the assistant message that asked for it, and the last two messages
    /// always stay.
    public static func trimmed(_ messages: [ChatMessage], budget: Int) -> [ChatMessage] {
        var history = messages
        var total = history.reduce(0) { $0 + size($1) }
        while total > budget, history.count > 2 {
            total -= size(history.removeFirst())
            while let first = history.first, history.count > 2,
                first.role == .tool || (first.role == .assistant && first.toolCalls != nil)
            {
                total -= size(history.removeFirst())
            }
        }
        return history
    }

    /// Characters a message costs: its text, and its tool calls' arguments with some overhead each.
    static func size(_ message: ChatMessage) -> Int {
        (message.content?.count ?? 0) + (message.toolCalls?.reduce(0) { $0 + $1.arguments.count + 40 } ?? 0)
    }
}
