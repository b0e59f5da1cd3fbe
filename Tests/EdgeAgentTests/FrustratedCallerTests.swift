import Foundation
import GRDB
import LocalStore
import Sync
import Testing

@testable import CallSimulator
@testable import EdgeAgent

/// Scripted calls in both languages with a caller who loses patience: the model is told, the voice
/// steadies and slows, the offer of a call-back comes once (transfers are not set up in the rig),
/// and each caller turn's frustration, the call's escalation and the day's count are stored.
@Suite("A frustrated caller", .serialized)
struct FrustratedCallerTests {
    static func messages(of request: JSONValue) -> [JSONValue] {
        guard case .array(let messages) = request["messages"] else { return [] }
        return messages
    }

    static func notes(in request: JSONValue) -> [String] {
        messages(of: request).compactMap { $0["role"] == "system" ? $0["content"]?.stringValue : nil }
            .filter { $0.hasPrefix("(The caller") }
    }

    /// The messages left for the staff, and the call's `escalations` metric.
    static func messagesAndEscalations(
        _ app: EdgeAgentApp, callID: String
    ) async throws -> (messages: Int?, escalations: Double?) {
        try await app.database.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM staff_messages"),
                try Double.fetchOne(
                    db, sql: "SELECT value FROM call_metrics WHERE call_id = ? AND name = 'escalations'",
                    arguments: [callID])
            )
        }
    }

    @Test("English: strained, then upset, offered a call-back instead of a model answer, message taken")
    func english() async throws {
        let offer = try PhraseBook.shipped().text(.escalationOfferMessage, language: "en")
        let llm = OpenAIChatDouble([
            ScriptedLLM.text("Sorry, I didn't catch the time. What time would you like?"),
            ScriptedLLM.text("I'm sorry. A table for four tomorrow at eight, is that right?"),
            ScriptedLLM.tool(
                "take_message",
                #"{"message":"Upset caller wants a call back about a table for four tomorrow at eight"}"#),
            ScriptedLLM.text("Done. Someone from the restaurant will call you back soon."),
        ])
        let transcription = TranscriptionDouble([
            "I'd like a table for four tomorrow at eight.",
            "This is ridiculous, I already told you. Four people, tomorrow at eight.",
            "Are you even listening to me? Four people tomorrow at eight!",
            "Yes, please have someone call me back.",
        ])
        let tts = ElevenLabsDouble()
        let rig = CallTestRig(llm: llm, transcription: transcription, tts: tts)
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000f7a1",
                script: try .caller(saying: ["en-booking", "en-name", "en-booking", "en-confirm"]))
            let callID = try #require(report.callID)
            #expect(report.timeouts == 0)

            // The model was asked three times for the four turns: the third was the offer, no model.
            let requests = llm.requests.withLockedValue { $0 }
            #expect(requests.count == 4)
            guard requests.count == 4 else { return }
            #expect(Self.notes(in: requests[0]).isEmpty)
            #expect(Self.notes(in: requests[1]).count == 1)
            #expect(Self.notes(in: requests[1]).first?.hasPrefix("(The caller sounds frustrated") == true)
            // The offer and what the model was told of it are in the history of the fourth turn.
            let fourth = Self.messages(of: requests[2])
            #expect(fourth.contains { $0["role"] == "assistant" && $0["content"]?.stringValue == offer })
            #expect(fourth.contains { $0["content"]?.stringValue?.hasPrefix("(You offered to take a message") == true })

            // What the caller heard, and how.
            let turns = try await CallLog(database: app.database).turns(callID: callID)
            let agentTexts = turns.filter { $0.speaker == .agent }.map(\.text)
            #expect(agentTexts.filter { $0 == offer }.count == 1)
            let settings = tts.voiceSettings.withLockedValue { $0 }
            let first = try #require(settings.first { $0.text.hasPrefix("Sorry, I didn't catch") })
            #expect(first.stability == 0.5 && first.speed == 1)
            let calmer = try #require(settings.first { $0.text.hasPrefix("I'm sorry. A table") })
            #expect(calmer.stability == 0.8 && calmer.speed == 0.92)

            // Stored: frustration per caller turn, one escalation, one message for the staff.
            let frustration = turns.filter { $0.speaker == .caller }.map(\.frustration)
            #expect(frustration.count == 4)
            #expect(frustration.first == 0)
            #expect(frustration[1].map { (0.35..<0.65).contains($0) } == true)
            #expect(frustration[2].map { $0 >= 0.65 } == true)
            let stored = try await Self.messagesAndEscalations(app, callID: callID)
            #expect(stored.messages == 1)
            #expect(stored.escalations == 1)
            let today = try await app.database.read { db in
                try String.fetchOne(db, sql: "SELECT row FROM daily_call_summaries ORDER BY id DESC LIMIT 1")
            }
            let summary = try JSONDecoder().decode(DailyCallSummary.self, from: Data(try #require(today).utf8))
            #expect(summary.escalations == 1)
        }
    }

    @Test("Spanish: slower when asked, a person asked for, the model told there is no transfer, message taken")
    func spanish() async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.text("Claro que sí. ¿A qué hora le gustaría venir?"),
            ScriptedLLM.text("Perfecto, a las nueve. ¿A nombre de quién?"),
            ScriptedLLM.tool("take_message", #"{"message":"El cliente quiere hablar con una persona"}"#),
            ScriptedLLM.text("Lo siento mucho. Le he dejado el mensaje al personal y le llamarán enseguida."),
        ])
        let deepgram = DeepgramDouble([
            ("Hola, quisiera una mesa para cuatro el viernes.", "es"),
            ("Más despacio, por favor. A las nueve.", "es"),
            ("¡Otra vez! Quiero hablar con una persona.", "es"),
        ])
        let tts = ElevenLabsDouble()
        let rig = CallTestRig(llm: llm, transcription: TranscriptionDouble([]), tts: tts, deepgram: deepgram)
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000f7a2", from: "+34600111333",
                script: try .caller(
                    saying: ["es-booking", "es-name"],
                    then: [
                        .say(try EdgeAgentTestAudio.speech("es-booking")), .waitForAgent(timeout: .seconds(10)),
                        .hangUp,
                    ]))
            let callID = try #require(report.callID)
            #expect(report.timeouts == 0)
            let requests = llm.requests.withLockedValue { $0 }
            #expect(requests.count == 4)
            guard requests.count == 4 else { return }
            #expect(Self.notes(in: requests[1]).isEmpty)
            #expect(
                Self.notes(in: requests[2]) == [
                    "(The caller asked for a person, but calls cannot be transferred here. Apologise and offer to "
                        + "take a message so the staff call them back, with take_message.)"
                ])
            let settings = tts.voiceSettings.withLockedValue { $0 }
            let before = try #require(settings.first { $0.text.hasPrefix("Claro que sí") })
            #expect(before.speed == 1)
            let slower = try #require(settings.first { $0.text.hasPrefix("Perfecto, a las nueve") })
            #expect(slower.speed == 0.9 && slower.stability == 0.5)
            let calmer = try #require(settings.first { $0.text.hasPrefix("Lo siento mucho") })
            #expect(calmer.speed == 0.9 && calmer.stability == 0.8)
            let stored = try await Self.messagesAndEscalations(app, callID: callID)
            #expect(stored.messages == 1)
            #expect(stored.escalations == 1)
            let turns = try await CallLog(database: app.database).turns(callID: callID)
            #expect(turns.filter { $0.speaker == .caller }.last?.frustration.map { $0 >= 0.65 } == true)
        }
    }
}
