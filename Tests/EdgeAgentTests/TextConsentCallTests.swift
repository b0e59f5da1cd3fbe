import CloudAccountDoubles
import Foundation
import GRDB
import Hummingbird
import LocalStore
import Testing

@testable import CallSimulator
@testable import EdgeAgent

/// A booking by voice with a text confirmation: with no Lookup configured the caller is asked to
/// press 1, and only then is the text queued as due; a caller who does not press gets none.
@Suite("Text confirmation in a call", .serialized)
struct TextConsentCallTests {
    static let accountSID = "AC" + String(repeating: "0", count: 31) + "7"

    static func run(press: Bool) async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.bookAdasTable,
            ScriptedLLM.text("You're booked, Ada: four people tomorrow at seven thirty."),
        ])
        let transcription = TranscriptionDouble(["A table for four tomorrow at seven thirty, for Ada Lovelace."])
        let twilio = TwilioMessagingDouble(accountSID: accountSID, authToken: testAuthToken)
        let router = Router()
        twilio.register(on: router)
        try await withLoopbackServer(router) { twilioURL in
            var rig = CallTestRig(llm: llm, transcription: transcription, tts: ElevenLabsDouble())
            rig.adjust = { configuration in
                configuration.twilio.accountSID = accountSID
                configuration.twilio.apiBaseURL = twilioURL
                configuration.textMessages.from = CallTestRig.restaurant
            }
            try await rig.run { app, simulator in
                let consent = app.phrases.text(.textConsent, language: "en")
                let thanks = app.phrases.text(.textConsentGiven, language: "en")
                var steps: [CallScript.Step] = [
                    .waitForAgent(timeout: .seconds(5)),
                    .say(try EdgeAgentTestAudio.speech("en-booking")), .waitForAgent(timeout: .seconds(10)),
                ]
                if press { steps += [.press("1"), .waitForAgent(timeout: .seconds(5))] }
                let report = try await simulator.callToEnd(
                    app, callSid: "CA0000000000000000000000000000a5b\(press ? 1 : 2)",
                    script: CallScript(steps + [.hangUp]))
                #expect(report.timeouts == 0)
                let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
                let said = turns.filter { $0.speaker == .agent }.map(\.text).joined(separator: " ")
                #expect(said.contains(consent))
                #expect(said.contains(thanks) == press)

                let rows = try await app.database.read { db in
                    try Row.fetchAll(db, sql: "SELECT status, body, to_phone FROM text_confirmations").map {
                        [
                            "status": $0["status"] as String, "body": $0["body"] as String,
                            "to_phone": $0["to_phone"] as String,
                        ]
                    }
                }
                #expect(rows.count == 1)
                #expect(rows.first?["status"] == (press ? "pending" : "skipped"))
                #expect(rows.first?["to_phone"] == CallTestRig.caller)
                let sender = try #require(app.makeTextConfirmationSender())
                #expect(await sender.sendDue() == (press ? 1 : 0))
                let messages = twilio.messages.withLockedValue { $0 }
                #expect(messages.count == (press ? 1 : 0))
                if press {
                    #expect(messages.first?["To"] == CallTestRig.caller)
                    #expect(messages.first?["Body"] == rows.first?["body"])
                    #expect(messages.first?["Body"]?.hasPrefix("Trattoria Roma: your table for 4 on ") == true)
                }
            }
        }
    }

    @Test("the caller presses 1: the text is sent, with the booking's details")
    func consented() async throws {
        try await Self.run(press: true)
    }

    @Test("the caller does not press: no text is sent")
    func notConsented() async throws {
        try await Self.run(press: false)
    }

    @Test("a booking on the keypad asks too: the caller presses 1 and the text is queued as due")
    func keypad() async throws {
        let twilio = TwilioMessagingDouble(accountSID: Self.accountSID, authToken: testAuthToken)
        let router = Router()
        twilio.register(on: router)
        try await withLoopbackServer(router) { twilioURL in
            var rig = CallTestRig(
                llm: OpenAIChatDouble([]), transcription: TranscriptionDouble([]), tts: ElevenLabsDouble())
            rig.adjust = { configuration in
                configuration.twilio.accountSID = Self.accountSID
                configuration.twilio.apiBaseURL = twilioURL
                configuration.textMessages.from = CallTestRig.restaurant
            }
            try await rig.run { app, simulator in
                let report = try await simulator.callToEnd(
                    app, callSid: "CA0000000000000000000000000000a5b3",
                    script: CallScript(
                        [.waitForAgent(timeout: .seconds(5)), .press("*"), .waitForAgent(timeout: .seconds(15))]
                            + "14#2#1930#".map { .press(String($0)) }
                            + [
                                .waitForAgentQuiet(timeout: .seconds(20), quiet: .seconds(1)),
                                .press("1"), .waitForAgentQuiet(timeout: .seconds(20), quiet: .seconds(1)),
                                .press("1"), .waitForAgent(timeout: .seconds(10)), .hangUp,
                            ]))
                let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
                let said = turns.filter { $0.speaker == .agent }.map(\.text).joined(separator: " ")
                #expect(said.contains(app.phrases.text(.keypadBooked, language: "en")))
                #expect(said.contains(app.phrases.text(.textConsent, language: "en")))
                #expect(said.contains(app.phrases.text(.textConsentGiven, language: "en")))
                let statuses = try await app.database.read { db in
                    try String.fetchAll(db, sql: "SELECT status FROM text_confirmations")
                }
                #expect(statuses == ["pending"])
                let sources = try await app.database.read { db in
                    try String.fetchAll(db, sql: "SELECT source FROM reservations")
                }
                #expect(sources == ["keypad"])
            }
        }
    }
}
