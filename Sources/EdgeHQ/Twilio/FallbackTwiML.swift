import TwilioWire

/// The TwiML headquarters answers while a site's box cannot: the restaurant's fallback message in
/// the caller's language, the restaurant's own line with a timeout, and otherwise a voicemail.
enum FallbackTwiML {
    /// What callers hear, per language.
    struct Lines {
        let sayLanguage: String
        let greeting: @Sendable (String) -> String
        let connecting: String
        let voicemail: String
        let goodbye: String
    }

    static let english = Lines(
        sayLanguage: "en-US",
        greeting: { "Thank you for calling \($0). Our phone assistant cannot answer right now." },
        connecting: "We are putting you through to the restaurant.",
        voicemail:
            "Please leave your name, your number and your message after the tone, and we will call you back.",
        goodbye: "Thank you. We have your message. Goodbye.")

    static let spanish = Lines(
        sayLanguage: "es-US",
        greeting: { "Gracias por llamar a \($0). Nuestro asistente telefónico no puede atenderle ahora." },
        connecting: "Le pasamos con el restaurante.",
        voicemail: "Deje su nombre, su número y su mensaje después del tono, y le devolveremos la llamada.",
        goodbye: "Gracias. Hemos recibido su mensaje. Adiós.")

    static func lines(_ language: String) -> Lines { language == "es" ? spanish : english }

    /// The first answer: the greeting, then the landline (its outcome to `dialAction`) or, with no
    /// landline, the voicemail at once.
    static func greeting(
        restaurant: String, language: String, landline: String?, dialTimeoutSeconds: Int, dialAction: String,
        recordAction: String, recordingCallback: String
    ) -> String {
        let lines = lines(language)
        guard let landline else {
            return document(
                say(lines.greeting(restaurant), lines) + say(lines.voicemail, lines)
                    + record(action: recordAction, callback: recordingCallback))
        }
        return document(
            say(lines.greeting(restaurant) + " " + lines.connecting, lines)
                + #"<Dial action="\#(XMLEscaping.escape(dialAction))" method="POST" timeout="\#(dialTimeoutSeconds)">"#
                + XMLEscaping.escape(landline) + "</Dial>")
    }

    /// After the landline rang out, was busy or failed: the voicemail.
    static func voicemail(language: String, recordAction: String, recordingCallback: String) -> String {
        let lines = lines(language)
        return document(say(lines.voicemail, lines) + record(action: recordAction, callback: recordingCallback))
    }

    /// After the message was recorded.
    static func goodbye(language: String) -> String {
        document(say(lines(language).goodbye, lines(language)) + "<Hangup />")
    }

    /// The call is over (the restaurant answered).
    static func hangUp() -> String { document("<Hangup />") }

    static func record(action: String, callback: String) -> String {
        #"<Record action="\#(XMLEscaping.escape(action))" maxLength="120" method="POST" playBeep="true" "#
            + #"recordingStatusCallback="\#(XMLEscaping.escape(callback))" recordingStatusCallbackEvent="completed" "#
            + #"timeout="5" trim="trim-silence" />"#
    }

    static func say(_ text: String, _ lines: Lines) -> String {
        #"<Say language="\#(lines.sayLanguage)">\#(XMLEscaping.escape(text))</Say>"#
    }

    static func document(_ body: String) -> String {
        #"<?xml version="1.0" encoding="UTF-8"?><Response>\#(body)</Response>"#
    }
}
