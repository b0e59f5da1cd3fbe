import Foundation
import Testing

@testable import EdgeAgent

/// The messages of upstream-apis.md §3, byte for byte.
@Suite("Media Streams messages")
struct MediaStreamMessageTests {
    @Test("every documented inbound message decodes")
    func inbound() throws {
        #expect(
            try MediaStreamInbound.decode(#"{"event": "connected", "protocol": "Call", "version": "1.0.0"}"#)
                == .connected(protocolName: "Call", version: "1.0.0"))
        let start = try MediaStreamInbound.decode(
            #"{"event":"start","sequenceNumber":"1","streamSid":"MZ22222222222222222222222222222222","start":{"accountSid":"AC00000000000000000000000000000001","streamSid":"MZ22222222222222222222222222222222","callSid":"CA11111111111111111111111111111111","tracks":["inbound"],"customParameters":{"restaurantId":"r42","streamToken":"3f9c"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#
        )
        guard case .start(let details) = start else {
            Issue.record("not a start")
            return
        }
        #expect(details.streamSid == "MZ22222222222222222222222222222222")
        #expect(details.callSid == "CA11111111111111111111111111111111")
        #expect(details.customParameters == ["restaurantId": "r42", "streamToken": "3f9c"])
        #expect(details.sampleRate == 8000)
        let silence = String(repeating: "/", count: 212) + "/w=="
        let media = try MediaStreamInbound.decode(
            #"{"event":"media","sequenceNumber":"3","streamSid":"MZ22222222222222222222222222222222","media":{"track":"inbound","chunk":"2","timestamp":"40","payload":"\#(silence)"}}"#
        )
        #expect(
            media
                == .media(
                    .init(track: "inbound", chunk: 2, timestamp: 40, payload: [UInt8](repeating: 0xFF, count: 160))))
        #expect(
            try MediaStreamInbound.decode(
                #"{"event":"dtmf","streamSid":"MZ22222222222222222222222222222222","sequenceNumber":"57","dtmf":{"track":"inbound_track","digit":"5"}}"#
            ) == .dtmf(digit: "5"))
        #expect(
            try MediaStreamInbound.decode(
                #"{"event":"mark","sequenceNumber":"88","streamSid":"MZ22222222222222222222222222222222","mark":{"name":"turn3-seg2"}}"#
            ) == .mark(name: "turn3-seg2"))
        #expect(
            try MediaStreamInbound.decode(
                #"{"event":"stop","sequenceNumber":"812","streamSid":"MZ22222222222222222222222222222222","stop":{"accountSid":"AC00000000000000000000000000000001","callSid":"CA11111111111111111111111111111111"}}"#
            ) == .stop(callSid: "CA11111111111111111111111111111111"))
        #expect(try MediaStreamInbound.decode(#"{"event":"hologram"}"#) == .unknown(event: "hologram"))
    }

    @Test(
        "malformed messages are refused with a reason, never a crash",
        arguments: [
            ("not json", "not JSON"),
            ("[1,2]", "not a JSON object"),
            (#"{"no":"event"}"#, "no event"),
            (#"{"event":"media","media":{"payload":"***not base64***"}}"#, "not Base64"),
            (#"{"event":"media","media":{}}"#, "without payload"),
            (#"{"event":"start","start":{"callSid":"CA1"}}"#, "without streamSid"),
            (#"{"event":"start","start":{"streamSid":"MZ\"},\"x","callSid":"CA1"}}"#, "not a Twilio id"),
            (#"{"event":"dtmf","dtmf":{"digit":"55"}}"#, "valid digit"),
            (#"{"event":"mark","mark":{}}"#, "without name"),
        ])
    func malformed(text: String, reason: String) {
        #expect {
            try MediaStreamInbound.decode(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("an oversized payload is refused before it is decoded")
    func oversized() {
        let big = Data(repeating: 0xFF, count: MediaStreamInbound.maximumPayloadBytes + 3000).base64EncodedString()
        #expect {
            try MediaStreamInbound.decode(#"{"event":"media","media":{"payload":"\#(big)"}}"#)
        } throws: { "\($0)".contains("larger than") }
    }

    @Test("outbound messages are the documented JSON")
    func outbound() throws {
        let sid = "MZ22222222222222222222222222222222"
        #expect(
            MediaStreamOutbound.media([0xFF, 0xFF, 0xFF, 0xFF]).encode(streamSid: sid)
                == #"{"event":"media","streamSid":"MZ22222222222222222222222222222222","media":{"payload":"/////w=="}}"#
        )
        #expect(
            MediaStreamOutbound.mark(name: "turn3-seg2").encode(streamSid: sid)
                == #"{"event":"mark","streamSid":"MZ22222222222222222222222222222222","mark":{"name":"turn3-seg2"}}"#)
        #expect(
            MediaStreamOutbound.clear.encode(streamSid: sid)
                == #"{"event":"clear","streamSid":"MZ22222222222222222222222222222222"}"#)
        for message in [MediaStreamOutbound.media([1, 2, 3]), .mark(name: "a\"b"), .clear] {
            #expect(try JSONSerialization.jsonObject(with: Data(message.encode(streamSid: sid).utf8)) is [String: Any])
        }
    }
}

@Suite("Speakable pieces and language")
struct ConversationTextTests {
    @Test("streamed text is cut into sentences, and long sentences at clauses, never inside numbers")
    func splitting() {
        var splitter = SpeakableTextSplitter()
        var pieces: [String] = []
        for fragment in [
            "Of course", "! The soup is 8.50 and the", " steak is 32.00. Dr. Smith booked at 7:30 last", " week",
            ", and we",
            " would be glad to see you again on Friday evening, when the chef has a special tasting menu; shall I",
            " book it?", " Great",
        ] {
            pieces += splitter.append(fragment)
        }
        if let rest = splitter.finish() { pieces.append(rest) }
        #expect(
            pieces == [
                "Of course! The soup is 8.50 and the steak is 32.00.",
                "Dr. Smith booked at 7:30 last week, and we would be glad to see you again on Friday evening,",
                "when the chef has a special tasting menu; shall I book it?", "Great",
            ])
    }

    @Test(
        "Spanish and English are told apart by their words",
        arguments: [
            ("Hola, quisiera una mesa para cuatro personas mañana a las ocho.", "es"),
            ("Hi, I'd like a table for four people tomorrow at seven thirty.", "en"),
            ("¿Tienen opciones vegetarianas?", "es"),
            ("Do you have vegetarian options?", "en"),
            ("OK", nil),
        ])
    func language(text: String, expected: String?) {
        #expect(LanguageDetector.detect(text) == expected)
    }

    @Test("the phrase files have every phrase in both languages")
    func phrases() throws {
        let book = try PhraseBook.shipped()
        #expect(
            book.text(.greeting, language: "es", ["restaurant": "Roma"])
                == "Gracias por llamar a Roma. ¿En qué puedo ayudarle hoy?")
        #expect(book.text(.goodbye, language: "fr") == book.text(.goodbye, language: "en"))
        #expect(throws: StartupError.self) {
            try PhraseBook(["en": ["greeting": "Hi {restaurant}"], "es": ["greeting": "Hola"]])
        }
    }
}
