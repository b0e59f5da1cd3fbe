/// Cuts a `text/event-stream` body into the `data` of each event, whatever the chunk boundaries:
/// lines end with LF, CRLF or CR; an event ends at a blank line; several `data:` lines of one event
/// join with newlines; comments (`:`) and other fields are skipped.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var data: [String] = []
    private var hasData = false
    private var lastWasCR = false

    /// The largest line accepted; a longer one is a broken or hostile stream.
    public static let maximumLineBytes = 1 << 20

    /// A line longer than ``maximumLineBytes``.
    public struct LineTooLong: Error, CustomStringConvertible {
        public var description: String {
            "an event-stream line exceeded \(ServerSentEventParser.maximumLineBytes) bytes"
        }
    }

    public init() {}

    /// Feeds bytes and returns the data of every event they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [String] {
        var events: [String] = []
        for byte in bytes {
            if lastWasCR {
                lastWasCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                endLine(into: &events)
            case UInt8(ascii: "\r"):
                lastWasCR = true
                endLine(into: &events)
            default:
                line.append(byte)
                if line.count > Self.maximumLineBytes { throw LineTooLong() }
            }
        }
        return events
    }

    /// Ends the stream: an event not closed by a blank line is dispatched too.
    public mutating func finish() -> [String] {
        var events: [String] = []
        if !line.isEmpty { endLine(into: &events) }
        if hasData { events.append(data.joined(separator: "\n")) }
        data = []
        hasData = false
        return events
    }

    private mutating func endLine(into events: inout [String]) {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            if hasData { events.append(data.joined(separator: "\n")) }
            data = []
            hasData = false
            return
        }
        if line.first == UInt8(ascii: ":") { return }
        let text = String(decoding: line, as: UTF8.self)
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(text)
            value = ""
        }
        if field == "data" {
            data.append(String(value))
            hasData = true
        }
    }
}
