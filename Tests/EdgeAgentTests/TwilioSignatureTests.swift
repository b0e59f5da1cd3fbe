import Foundation
import Testing

@testable import EdgeAgent
@testable import TwilioWire

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Every expected signature here was computed by Twilio's own Python library (twilio 9.13.0,
/// `RequestValidator.compute_signature`), not by the code under test.
@Suite("Twilio signatures")
struct TwilioSignatureTests {
    static let documentedParameters = FormParameters([
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"), ("From", "+12349013030"),
        ("To", "+18005551212"),
    ])

    @Test("the reference vector of Twilio's documentation")
    func referenceVector() {
        let signature = TwilioSignature.compute(
            url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: Self.documentedParameters,
            authToken: "12345")
        #expect(signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    }

    @Test("a form body is encoded as Twilio's API takes it and decodes back to the same pairs, in order")
    func formEncoding() throws {
        let form = FormParameters([
            ("Body", "Table for 4 at 7:30 pm + dessert & café"), ("To", "+18005551212"), ("Body", ""),
        ])
        let body = "Table%20for%204%20at%207%3A30%20pm%20%2B%20dessert%20%26%20caf%C3%A9"
        #expect(form.encoded == "Body=\(body)&To=%2B18005551212&Body=")
        #expect(try #require(FormParameters(body: Array(form.encoded.utf8))) == form)
    }

    @Test("TwiML escapes XML's five special characters in values, and the document parses back to them")
    func twimlEscaping() throws {
        #expect(XMLEscaping.escape(#"Tom & Jerry's <"bar">"#) == "Tom &amp; Jerry&apos;s &lt;&quot;bar&quot;&gt;")
        let value = #"a&b<c>"d'e"#
        let document = TwiML.connectStream(
            url: "wss://agent.example.com/twilio/media?a=1&b=2", parameters: [(name: "token", value: value)])
        let xml = try XMLDocument(xmlString: document)
        let parameter = try #require(try xml.nodes(forXPath: "//Parameter").first as? XMLElement)
        #expect(parameter.attribute(forName: "value")?.stringValue == value)
        let stream = try #require(try xml.nodes(forXPath: "//Stream").first as? XMLElement)
        #expect(stream.attribute(forName: "url")?.stringValue == "wss://agent.example.com/twilio/media?a=1&b=2")
    }

    @Test("parameter order on the wire does not matter: names are sorted")
    func sortedNames() {
        let shuffled = FormParameters(Self.documentedParameters.pairs.reversed())
        #expect(
            TwilioSignature.isValid(
                header: "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: "https://mycompany.com/myapp.php?foo=1&bar=2",
                parameters: shuffled, authToken: "12345"))
    }

    @Test("a URL signed with or without the default port validates either way")
    func portQuirk() {
        for url in [
            "https://mycompany.com:443/myapp.php?foo=1&bar=2", "https://mycompany.com/myapp.php?foo=1&bar=2",
        ] {
            #expect(
                TwilioSignature.isValid(
                    header: "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: url, parameters: Self.documentedParameters,
                    authToken: "12345"), "\(url)")
        }
        #expect(
            !TwilioSignature.isValid(
                header: "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
                parameters: Self.documentedParameters, authToken: "12345"))
    }

    @Test(
        "a forged, altered or missing signature is refused",
        arguments: [
            ("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12346", "https://mycompany.com/myapp.php?foo=1&bar=2"),  // wrong token
            ("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345", "http://mycompany.com/myapp.php?foo=1&bar=2"),  // wrong scheme
            ("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345", "https://mycompany.com/myapp.php?foo=1&bar=3"),  // other query
            ("1/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2"),  // flipped bit
            ("0/KCTR6DLpKmkAf8muzZqo1nDg", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2"),  // truncated
            ("not base64!", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2"),
            ("", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2"),
        ])
    func refused(header: String, token: String, url: String) {
        #expect(
            !TwilioSignature.isValid(header: header, url: url, parameters: Self.documentedParameters, authToken: token))
    }

    @Test("the other port form keeps the path and query bytes exactly")
    func portVariantsAreTextual() {
        #expect(
            TwilioSignature.urlVariants("https://h.example.com:443/a%7Cb?x=%7C&y=1")
                == ["https://h.example.com:443/a%7Cb?x=%7C&y=1", "https://h.example.com/a%7Cb?x=%7C&y=1"])
        #expect(
            TwilioSignature.urlVariants("https://h.example.com/v?q=|")
                == ["https://h.example.com/v?q=|", "https://h.example.com:443/v?q=|"])
        #expect(
            TwilioSignature.urlVariants("http://h.example.com") == ["http://h.example.com", "http://h.example.com:80"])
        #expect(TwilioSignature.urlVariants("https://h.example.com:8443/v") == ["https://h.example.com:8443/v"])
        #expect(TwilioSignature.urlVariants("https://[::1]/v") == ["https://[::1]/v", "https://[::1]:443/v"])
    }

    @Test("a tampered parameter is refused")
    func tamperedParameter() {
        var pairs = Self.documentedParameters.pairs
        pairs[2] = ("Digits", "1235")
        #expect(
            !TwilioSignature.isValid(
                header: "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url: "https://mycompany.com/myapp.php?foo=1&bar=2",
                parameters: FormParameters(pairs), authToken: "12345"))
        #expect(
            !TwilioSignature.isValid(
                header: nil, url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: Self.documentedParameters,
                authToken: "12345"))
    }

    @Test("form bodies decode + and percent escapes; broken escapes are refused")
    func formDecoding() {
        let form = FormParameters(body: Array("Body=hello+world+%26+more%3Dyes&From=%2B15551234567&Empty=&Flag".utf8))
        #expect(form?["Body"] == "hello world & more=yes")
        #expect(form?["From"] == "+15551234567")
        #expect(form?["Empty"] == "")
        #expect(form?["Flag"] == "")
        #expect(FormParameters(body: Array("a=%4".utf8)) == nil)
        #expect(FormParameters(body: Array("a=%FF%FE".utf8)) == nil)  // not UTF-8
    }
}
