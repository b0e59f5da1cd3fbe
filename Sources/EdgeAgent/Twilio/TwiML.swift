import TwilioWire

/// The TwiML documents the agent answers with.
public enum TwiML {
    /// `<Connect><Stream>`: a bidirectional Media Stream to `url`, carrying `parameters` as
    /// `<Parameter>`s (Twilio ignores a query string on the stream URL).
    ///
    /// With `recordingCallback`, Twilio first starts its own two-channel recording of the whole call
    /// (`<Start><Recording>`), and calls `recordingCallback` when it is ready or missing.
    public static func connectStream(
        url: String, parameters: [(name: String, value: String)], recordingCallback: String? = nil
    ) -> String {
        let parameterElements = parameters.map {
            "<Parameter name=\"\(XMLEscaping.escape($0.name))\" value=\"\(XMLEscaping.escape($0.value))\"/>"
        }.joined()
        let recording = recordingCallback.map {
            """
            <Start><Recording channels="dual" recordingStatusCallback="\(XMLEscaping.escape($0))" \
            recordingStatusCallbackEvent="completed absent" recordingStatusCallbackMethod="POST" track="both"/></Start>
            """
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>\
            <Response>\(recording ?? "")<Connect><Stream url="\(XMLEscaping.escape(url))">\(parameterElements)</Stream></Connect></Response>
            """
    }
}
