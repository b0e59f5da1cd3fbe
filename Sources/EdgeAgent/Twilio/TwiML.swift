/// The TwiML documents the agent answers with.
public enum TwiML {
    /// `<Connect><Stream>`: a bidirectional Media Stream to `url`, carrying `parameters` as
    /// `<Parameter>`s (Twilio ignores a query string on the stream URL).
    public static func connectStream(url: String, parameters: [(name: String, value: String)]) -> String {
        let parameterElements = parameters.map {
            "<Parameter name=\"\(escape($0.name))\" value=\"\(escape($0.value))\"/>"
        }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8"?>\
            <Response><Connect><Stream url="\(escape(url))">\(parameterElements)</Stream></Connect></Response>
            """
    }

    /// Escapes text for an XML attribute or element.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
