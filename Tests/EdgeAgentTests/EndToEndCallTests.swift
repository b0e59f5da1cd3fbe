import Foundation
import GRDB
import LocalStore
import Sync
import Testing

@testable import CallSimulator
@testable import EdgeAgent

/// Whole calls through the simulator: signed webhook, Media Stream, real-time audio both ways,
/// the agent's voice activity detection on espeak-ng speech, and the cloud services as loopback
/// doubles. The rows the calls leave are asserted, not only the absence of errors.
@Suite("End-to-end calls", .serialized)
struct EndToEndCallTests {
    @Test("an English booking: availability, name, confirmation, goodbye and hang-up")
    func englishBooking() async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.checkAdasTable,
            ScriptedLLM.text(
                "Good news, we have a table for four tomorrow at seven thirty. What name should I put it under?"),
            ScriptedLLM.bookAdasTable,
            ScriptedLLM.text("You're all set, Ada. A table for four tomorrow at seven thirty. Anything else?"),
            ScriptedLLM.tool("end_call", "{}", text: "Thank you for calling, goodbye!"),
        ])
        // The last line pauses between its two sentences ("perfect." then "Thank you, goodbye."): one
        // breath, one utterance, answered once.
        let transcription = TranscriptionDouble([
            "Hi, I'd like a table for four people tomorrow at seven thirty.", "It's under Ada Lovelace.",
            "Yes please, that's perfect. Thank you, goodbye.",
        ])
        let tts = ElevenLabsDouble()
        let rig = CallTestRig(llm: llm, transcription: transcription, tts: tts)
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA00000000000000000000000000000e2e",
                script: try .caller(
                    saying: ["en-booking", "en-name", "en-confirm"], then: [.pause(.seconds(2)), .hangUp]))

            // What the caller experienced.
            #expect(report.timeouts == 0)
            #expect(report.agentHungUp)
            #expect(report.responseLatencies.count == 3)
            #expect(report.marksSent > 0 && report.marksEchoed == report.marksSent)
            #expect(report.agentAudioBytes > 8000)
            #expect(report.clears <= 1)

            // What was stored.
            let reservation = try #require(try await app.database.read { db in try Reservation.fetchOne(db) })
            #expect(reservation.name == "Ada Lovelace")
            #expect(reservation.partySize == 4)
            #expect(reservation.phone == CallTestRig.caller)
            #expect(reservation.source == .phoneAgent)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(reservation.callID == call.id)
            #expect(call.language == "en")
            #expect(call.outcome == "reservation_created")
            // The day's roll-up counts the call, for headquarters.
            let day = LocalDate(
                Date(unixMilliseconds: call.startedAt), in: app.configuration.reservations.timeZone
            ).description
            let summary = try #require(try await CallSummaries(database: app.database).summary(of: day))
            #expect(summary.calls == 1 && summary.reservationsCreated == 1)
            #expect(summary.meanResponseLatencyMilliseconds != nil)
            let turns = try await CallLog(database: app.database).turns(callID: call.id)
            #expect(
                turns.filter { $0.speaker == .caller }.map(\.text) == [
                    "Hi, I'd like a table for four people tomorrow at seven thirty.", "It's under Ada Lovelace.",
                    "Yes please, that's perfect. Thank you, goodbye.",
                ])
            let agentTurns = turns.filter { $0.speaker == .agent && !$0.interrupted }
            #expect(agentTurns.first?.text == "Thank you for calling Trattoria Roma. How can I help you today?")
            #expect(agentTurns.count == 4)
            #expect(agentTurns.dropFirst().allSatisfy { $0.firstFrameAt != nil && $0.endOfSpeechAt != nil })
            #expect(agentTurns.last?.text == "Thank you for calling, goodbye!")
            // The last answer covered both sentences of the caller's last line.
            let lastRequest = try #require(llm.requests.withLockedValue { $0 }.last)
            guard case .array(let lastMessages) = lastRequest["messages"] else {
                Issue.record("no messages")
                return
            }
            #expect(lastMessages.last?["content"] == "Yes please, that's perfect. Thank you, goodbye.")
            let tools = try await app.database.read { db in
                try ToolExecution.order(Column("started_at")).fetchAll(db)
            }
            #expect(tools.map(\.tool) == ["check_availability", "create_reservation"])
            #expect(tools.allSatisfy { $0.status == .ok })
            let outboxTables = try await app.database.read { db in
                try String.fetchAll(db, sql: "SELECT DISTINCT table_name FROM outbox ORDER BY table_name")
            }
            #expect(
                outboxTables == [
                    "call_metrics", "calls", "conversation_turns", "customers", "daily_call_summaries", "reservations",
                    "tool_executions",
                ])

            // What the cloud services were asked.
            let first = try #require(llm.requests.withLockedValue { $0 }.first)
            guard case .array(let messages) = first["messages"] else {
                Issue.record("no messages")
                return
            }
            #expect(messages.first?["role"] == "system")
            #expect(messages.first?["content"]?.stringValue?.contains("Trattoria Roma") == true)
            #expect(
                messages.last == [
                    "role": "user", "content": "Hi, I'd like a table for four people tomorrow at seven thirty.",
                ])
            #expect(tts.requests.withLockedValue { $0 }.allSatisfy { $0.voice == "voice-en" && $0.language == "en" })
            #expect(transcription.durations.withLockedValue { $0 }.allSatisfy { $0 > 1 })
        }
    }

    @Test("a Spanish caller (heard through Deepgram) is answered in Spanish, and talking over the agent cuts it off")
    func spanishAndBargeIn() async throws {
        let (llm, deepgram) = SpanishBargeIn.doubles()
        let tts = ElevenLabsDouble()
        let rig = CallTestRig(llm: llm, transcription: TranscriptionDouble([]), tts: tts, deepgram: deepgram)
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000e2e2", from: "+34600111222",
                script: try SpanishBargeIn.script())
            #expect(report.clears >= 1)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.language == "es")
            let turns = try await CallLog(database: app.database).turns(callID: call.id)
            let interrupted = try #require(turns.first { $0.interrupted })
            #expect(interrupted.speaker == .agent)
            #expect(interrupted.unheardText?.isEmpty == false)
            let reservation = try #require(try await app.database.read { db in try Reservation.fetchOne(db) })
            #expect(reservation.name == "Carmen García")
            #expect(
                tts.requests.withLockedValue { $0 }.dropFirst().allSatisfy {
                    $0.voice == "voice-es" && $0.language == "es"
                })
            let second = try #require(llm.requests.withLockedValue { $0 }.dropFirst().first)
            guard case .array(let messages) = second["messages"] else {
                Issue.record("no messages")
                return
            }
            #expect(messages.first?["content"]?.stringValue?.hasPrefix("Eres el anfitrión") == true)
        }
    }

    @Test("a plate dropped while the agent answers does not cut the answer off, and starts no turn")
    func clatterDoesNotInterrupt() async throws {
        let answer =
            "We have a table for four tomorrow at seven thirty. This week there is also a seasonal menu with new "
            + "dishes, homemade desserts and wines from the region. What name should I put it under?"
        let llm = OpenAIChatDouble([ScriptedLLM.text(answer)])
        let transcription = TranscriptionDouble(["Hi, I'd like a table for four people tomorrow at seven thirty."])
        let rig = CallTestRig(llm: llm, transcription: transcription, tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000c1a7",
                script: CallScript([
                    .waitForAgent(timeout: .seconds(5)),
                    .say(try EdgeAgentTestAudio.speech("en-booking")),
                    // The long answer is playing when the plate falls, twice.
                    .waitForAgentAudio(played: .milliseconds(1500), timeout: .seconds(8)),
                    .say(EdgeAgentTestAudio.clatter()), .pause(.milliseconds(700)),
                    .say(EdgeAgentTestAudio.clatter()),
                    .waitForAgent(timeout: .seconds(15)),
                    .hangUp,
                ]))
            #expect(report.timeouts == 0)
            #expect(report.clears == 0)
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            #expect(turns.filter { $0.speaker == .caller }.count == 1)
            #expect(!turns.contains { $0.interrupted })
            #expect(turns.last?.speaker == .agent)
            #expect(turns.last?.text == answer)
            // Nothing but the caller's one sentence went to speech-to-text.
            #expect(transcription.durations.withLockedValue { $0 }.count == 1)
            #expect(llm.requests.withLockedValue { $0 }.count == 1)
        }
    }

    @Test("a returning caller changes and then cancels their booking by voice")
    func changeAndCancel() async throws {
        let tomorrow = CallTestRig.tomorrow
        let llm = OpenAIChatDouble([
            ScriptedLLM.tool("update_reservation", #"{"time":"20:00"}"#),
            ScriptedLLM.text("Done, your table is now at eight."),
            ScriptedLLM.tool("cancel_reservation", #"{"date":"\#(tomorrow)"}"#),
            ScriptedLLM.text("It's cancelled. We hope to see you another time."),
        ])
        let transcription = TranscriptionDouble(["Can you move my booking to eight?", "Actually, please cancel it."])
        let rig = CallTestRig(llm: llm, transcription: transcription, tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            let book = ReservationBook(database: app.database, policy: app.configuration.reservations)
            let booked = try await book.create(
                .init(
                    name: "Ada Lovelace", phone: CallTestRig.caller, partySize: 2, date: LocalDate(tomorrow)!,
                    time: LocalTime("19:00")!, source: .staff), actor: "test")
            let report = try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000c4a1",
                script: try .caller(saying: ["en-name", "en-interrupt"]))
            // The returning caller was greeted by name.
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            #expect(turns.first?.text.hasPrefix("Hi Ada Lovelace, welcome back") == true)
            let final = try #require(try await book.reservation(id: booked.id))
            #expect(final.status == .cancelled)
            #expect(
                LocalTime(Date(unixMilliseconds: final.startsAt), in: app.configuration.reservations.timeZone)
                    .description == "20:00")
            #expect(final.version == 3)
            let versions = try await app.database.read { db in
                try Int64.fetchAll(
                    db, sql: "SELECT version FROM outbox WHERE row_id = ? ORDER BY id", arguments: [booked.id])
            }
            #expect(versions == [1, 2, 3])
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.outcome == "reservation_changed" || call.outcome == "reservation_cancelled")
        }
    }

    @Test("a caller who switches from English to Spanish is answered in Spanish from then on")
    func languageSwitch() async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.text("Of course, for what time?"), ScriptedLLM.text("Muy bien, Carmen. ¿Para qué hora?"),
        ])
        let transcription = TranscriptionDouble([
            "Hi, I'd like a table for four people tomorrow at seven thirty.", "A nombre de Carmen García.",
        ])
        let tts = ElevenLabsDouble()
        let rig = CallTestRig(llm: llm, transcription: transcription, tts: tts)
        try await rig.run { app, simulator in
            try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000b11e",
                script: try .caller(saying: ["en-booking", "es-name"]))
            let requests = tts.requests.withLockedValue { $0 }
            // Greeting and first answer in English; the Spanish answer is two sentences, two pieces.
            #expect(requests.map(\.voice) == ["voice-en", "voice-en", "voice-es", "voice-es"])
            #expect(requests.suffix(2).map(\.text) == ["Muy bien, Carmen.", "¿Para qué hora?"])
            #expect(requests.suffix(2).allSatisfy { $0.language == "es" })
            let prompts = llm.requests.withLockedValue { $0 }.compactMap { request -> String? in
                guard case .array(let messages) = request["messages"] else { return nil }
                return messages.first?["content"]?.stringValue
            }
            #expect(prompts.count == 2)
            #expect(prompts[0].hasPrefix("You are the friendly phone host"))
            #expect(prompts[1].hasPrefix("Eres el anfitrión"))
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.language == "es")
        }
    }

    @Test("a menu question about allergens is answered from the menu in the store")
    func allergens() async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.tool("get_menu", #"{"category":"mains"}"#),
            ScriptedLLM.text("The grilled salmon contains fish; the risotto contains milk and celery."),
        ])
        let rig = CallTestRig(
            llm: llm, transcription: TranscriptionDouble(["Which of your mains have allergens?"]),
            tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000a11e", script: try .caller(saying: ["en-name"]))
            let second = try #require(llm.requests.withLockedValue { $0 }.dropFirst().first)
            guard case .array(let messages) = second["messages"], let result = messages.last?["content"]?.stringValue,
                let menu = JSONValue.parse(result), case .array(let items) = menu["items"]
            else {
                Issue.record("the model did not get the menu")
                return
            }
            let salmon = try #require(items.first { $0["name"] == "Grilled salmon" })
            #expect(salmon["allergens"] == ["fish"])
            #expect(items.allSatisfy { $0["category"] == "mains" })
            let execution = try #require(try await app.database.read { db in try ToolExecution.fetchOne(db) })
            #expect(execution.tool == "get_menu")
            #expect(execution.status == .ok)
        }
    }

    @Test("keypad digits reach the model as the caller's turn; a returning caller is greeted in their language")
    func keypadDigits() async throws {
        let llm = OpenAIChatDouble([ScriptedLLM.text("Thanks, a table for four then. What time?")])
        let tts = ElevenLabsDouble()
        let rig = CallTestRig(llm: llm, transcription: TranscriptionDouble([]), tts: tts)
        try await rig.run { app, simulator in
            // A returning caller who speaks Spanish is greeted by name, in Spanish, in the Spanish voice.
            try await app.database.write { db in
                try Customer(
                    id: "c1", phone: CallTestRig.caller, name: "Carmen", preferredLanguage: "es", usualPartySize: 4,
                    createdAt: 0, updatedAt: 0
                ).insert(db)
            }
            let report = try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000d7f1",
                script: CallScript([
                    .waitForAgent(timeout: .seconds(5)), .press("4"), .press("#"), .waitForAgent(timeout: .seconds(5)),
                    .hangUp,
                ]))
            #expect(report.timeouts == 0)
            let request = try #require(llm.requests.withLockedValue { $0 }.first)
            guard case .array(let messages) = request["messages"] else {
                Issue.record("no messages")
                return
            }
            #expect(messages.last == ["role": "user", "content": "(La persona marcó en el teclado: 4)"])
            #expect(messages.first?["content"]?.stringValue?.contains("llamado Carmen; suele reservar para 4") == true)
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            #expect(
                turns.first?.text
                    == "Hola Carmen, qué gusto tenerle de nuevo en Trattoria Roma. ¿En qué puedo ayudarle hoy?")
            #expect(turns.contains { $0.speaker == .caller && $0.text == "(La persona marcó en el teclado: 4)" })
            #expect(tts.requests.withLockedValue { $0 }.first?.voice == "voice-es")
        }
    }

    @Test("a tool error goes back to the model, which apologises; nothing is booked")
    func toolError() async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.tool("create_reservation", #"{"name":"Ada","party_size":40,"date":"2026-13-45","time":"7pm"}"#),
            ScriptedLLM.text("Sorry, I couldn't book that. Could you give me the date again?"),
        ])
        let rig = CallTestRig(
            llm: llm, transcription: TranscriptionDouble(["Book me a table for forty."]), tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000e4e1", script: try .caller(saying: ["en-booking"]))
            #expect(try await app.database.read { db in try Reservation.fetchCount(db) } == 0)
            let execution = try #require(try await app.database.read { db in try ToolExecution.fetchOne(db) })
            #expect(execution.status == .error)
            #expect(execution.result.contains("invalid arguments"))
            let second = try #require(llm.requests.withLockedValue { $0 }.dropFirst().first)
            guard case .array(let messages) = second["messages"] else {
                Issue.record("no messages")
                return
            }
            #expect(messages.last?["role"] == "tool")
            #expect(messages.last?["content"]?.stringValue?.contains("error") == true)
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            #expect(
                turns.last { $0.speaker == .agent }?.text
                    == "Sorry, I couldn't book that. Could you give me the date again?")
        }
    }

    @Test("a caller who hangs up mid-sentence leaves a clean record")
    func hangUpMidSentence() async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.text(
                "Certainly. Let me tell you about our menu: we have starters, mains, desserts and a long list of wines, and tonight the chef has prepared a special tasting menu with seven courses."
            )
        ])
        let rig = CallTestRig(
            llm: llm, transcription: TranscriptionDouble(["What's on the menu?"]), tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000aa11",
                script: CallScript([
                    .waitForAgent(timeout: .seconds(5)), .say(try EdgeAgentTestAudio.speech("en-name")),
                    .pause(.milliseconds(1500)), .hangUp,
                ]))
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.outcome == "information")
            let turns = try await CallLog(database: app.database).turns(callID: call.id)
            let cut = try #require(turns.last { $0.speaker == .agent })
            #expect(cut.interrupted)
            #expect(cut.unheardText?.contains("seven courses") == true)
            let metrics = try await app.database.read { db in
                try String.fetchAll(
                    db, sql: "SELECT name FROM call_metrics WHERE call_id = ? ORDER BY name", arguments: [call.id])
            }
            #expect(metrics.contains("caller_turns"))
        }
    }

    @Test("a Media Stream that goes silent is dropped and the call closed cleanly")
    func stalledStream() async throws {
        let rig = CallTestRig(
            llm: OpenAIChatDouble([]), transcription: TranscriptionDouble([]), tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA0000000000000000000000000000f20e",
                script: CallScript([.waitForAgent(timeout: .seconds(5)), .freeze(.seconds(4)), .hangUp]))
            #expect(report.agentHungUp)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.outcome == "no_conversation")
        }
    }

    @Test("a stream sending garbage does not disturb a good call beside it")
    func garbageBesideGoodCall() async throws {
        let tomorrow = CallTestRig.tomorrow
        let llm = OpenAIChatDouble([
            ScriptedLLM.tool(
                "create_reservation", #"{"name":"Ada Lovelace","party_size":2,"date":"\#(tomorrow)","time":"19:00"}"#),
            ScriptedLLM.text("Booked. See you tomorrow."),
        ])
        let rig = CallTestRig(
            llm: llm, transcription: TranscriptionDouble(["Book me for two tomorrow at seven, Ada Lovelace."]),
            tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            var url = URLComponents(url: simulator.agentURL, resolvingAgainstBaseURL: false)!
            url.scheme = "ws"
            url.path = "/twilio/media"
            let garbageURL = url.string!
            async let garbage = HummingbirdWSClientConnect.sendGarbage(
                url: garbageURL, signature: simulator.webSocketSignature())
            let report = try await simulator.call(
                callSid: "CA0000000000000000000000000000900d", script: try .caller(saying: ["en-booking"]))
            let garbageClose = try await garbage
            await app.waitForEnd(of: report.callID)
            #expect(report.timeouts == 0)
            #expect(try await app.database.read { db in try Reservation.fetchCount(db) } == 1)
            #expect(garbageClose != nil)
        }
    }

    @Test("a stream with a forged token is refused and touches no call")
    func forgedStream() async throws {
        let rig = CallTestRig(
            llm: OpenAIChatDouble([]), transcription: TranscriptionDouble([]), tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            // A real call first, so a call row exists to aim at.
            _ = try await simulator.postVoiceWebhook(
                callSid: "CA000000000000000000000000000000f1", from: "+15550000001", to: CallTestRig.restaurant)
            let callID = try #require(
                try await app.database.read { db in try String.fetchOne(db, sql: "SELECT id FROM calls") })
            let line = SimulatedLine(
                callSid: "CA000000000000000000000000000000f1",
                parameters: ["callId": callID, "streamToken": "forged"],
                script: CallScript([.waitForAgent(timeout: .seconds(2))]))
            var url = URLComponents(url: simulator.agentURL, resolvingAgainstBaseURL: false)!
            url.scheme = "ws"
            url.path = "/twilio/media"
            let close = try await HummingbirdWSClientConnect.connect(
                url: url.string!, line: line, signature: simulator.webSocketSignature())
            #expect(close?.contains("policyViolation") == true, "\(close ?? "nil")")
            #expect(line.report.agentAudioBytes == 0)
        }
    }
}

/// A Spanish caller, heard through Deepgram, who gives their name while the agent's long answer is
/// still playing: the end-to-end and tracing tests place the same call.
enum SpanishBargeIn {
    /// The model's answers (a long one, the booking, goodbye) and what Deepgram hears.
    static func doubles() -> (OpenAIChatDouble, DeepgramDouble) {
        let tomorrow = CallTestRig.tomorrow
        let llm = OpenAIChatDouble([
            ScriptedLLM.text(
                "Claro que sí. Tenemos mesa para cuatro mañana a las ocho. Le cuento también que esta semana tenemos un menú especial de temporada con platos nuevos, postres caseros y vinos de la región. ¿A nombre de quién hago la reserva?"
            ),
            ScriptedLLM.tool(
                "create_reservation", #"{"name":"Carmen García","party_size":4,"date":"\#(tomorrow)","time":"20:00"}"#),
            ScriptedLLM.text("Listo, Carmen. Hasta mañana."),
        ])
        let deepgram = DeepgramDouble([
            ("Hola, quisiera una mesa para cuatro personas mañana a las ocho.", "es"),
            ("A nombre de Carmen García.", "es"),
        ])
        return (llm, deepgram)
    }

    /// The caller's side: the booking, then the name 2.5 s later, over the answer.
    static func script() throws -> CallScript {
        CallScript([
            .waitForAgent(timeout: .seconds(5)),
            .say(try EdgeAgentTestAudio.speech("es-booking")),
            // The long answer is still playing when the caller gives the name.
            .pause(.milliseconds(2500)),
            .say(try EdgeAgentTestAudio.speech("es-name")), .waitForAgent(timeout: .seconds(8)),
            .hangUp,
        ])
    }
}
