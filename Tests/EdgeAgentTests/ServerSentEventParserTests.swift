import Testing

@testable import EdgeAgent

@Suite("Server-sent events")
struct ServerSentEventParserTests {
    static let stream = Array(
        ": keep-alive comment\r\ndata: {\"a\":1}\r\n\r\nevent: ignored\ndata: line one\ndata: line two\n\ndata:no-space\r\rdata: [DONE]\n\n"
            .utf8)

    @Test("events come out the same whatever the chunk boundaries")
    func anyBoundaries() throws {
        let expected = [#"{"a":1}"#, "line one\nline two", "no-space", "[DONE]"]
        for size in [1, 2, 3, 7, 13, Self.stream.count] {
            var parser = ServerSentEventParser()
            var events: [String] = []
            var index = 0
            while index < Self.stream.count {
                let end = min(index + size, Self.stream.count)
                events += try parser.feed(Self.stream[index..<end])
                index = end
            }
            events += parser.finish()
            #expect(events == expected, "chunk size \(size)")
        }
    }

    @Test("an event not closed by a blank line is dispatched at the end")
    func unterminated() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: last".utf8)).isEmpty)
        #expect(parser.finish() == ["last"])
    }

    @Test("a line without end is refused past the limit")
    func hugeLine() {
        var parser = ServerSentEventParser()
        #expect(throws: ServerSentEventParser.LineTooLong.self) {
            _ = try parser.feed([UInt8](repeating: 65, count: ServerSentEventParser.maximumLineBytes + 1))
        }
    }
}
