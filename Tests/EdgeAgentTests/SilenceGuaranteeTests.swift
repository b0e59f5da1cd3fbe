import Foundation
import GRDB
import LocalStore
import Sync
import Testing

@testable import CallSimulator
@testable import EdgeAgent

/// The offline-first promise, end to end: with every cloud provider failing the same way at once, a
/// caller never waits more than the silence budget (1.5 s) after they stop speaking, the call moves
/// to the keypad, and a table still gets booked, in English and in Spanish.
@Suite("Offline-first: the silence guarantee", .serialized)
struct SilenceGuaranteeTests {
    /// nil is "dead": nothing listens at the providers' addresses.
    static let faults: [UpstreamFault?] = [nil, .hang, .status(500), .status(429), .garbage, .drip]

    static func elevenLabsFault(_ fault: UpstreamFault) -> ElevenLabsDouble.Fault {
        switch fault {
        case .none: .none
        case .status(let status): .status(status)
        case .hang: .hang
        case .garbage: .garbage
        case .drip: .drip
        }
    }

    /// Whether an agent turn the caller heard in full (its marks echoed) contains `text`.
    static func heard(_ text: String, on app: EdgeAgentApp) async -> Bool {
        let count = try? await app.database.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM conversation_turns WHERE speaker = 'agent' AND instr(text, ?) > 0",
                arguments: [text])
        }
        return (count ?? 0) > 0
    }

    @Test(
        "every upstream failing: heard within 1.5 s, moved to the keypad, a table booked",
        arguments: faults, ["en", "es"])
    func guarantee(fault: UpstreamFault?, language: String) async throws {
        let injected = FaultInjection(fault ?? .none)
        let llm = OpenAIChatDouble([ScriptedLLM.text("This answer never arrives.")], faults: injected)
        let transcription = TranscriptionDouble(["I'd like a table for four tomorrow."], faults: injected)
        let tts = ElevenLabsDouble(fault: Self.elevenLabsFault(fault ?? .none))
        var rig = CallTestRig(llm: llm, transcription: transcription, tts: tts)
        if fault == nil {
            rig.adjust = { configuration in
                let dead = URL(string: "http://127.0.0.1:1")!
                configuration.llm.baseURL = dead.appendingPathComponent("v1")
                configuration.textToSpeech.baseURL = dead
            }
        }
        let caller = language == "es" ? "+34600111333" : CallTestRig.caller
        let logs = rig.logs
        try await rig.run { app, simulator in
            defer {
                injected.hold.open()
                tts.hold.open()
            }
            if language == "es" {
                try await app.database.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO customers (id, phone, preferred_language, call_count, created_at, updated_at)
                            VALUES ('c-es', ?, 'es', 3, 0, 0)
                            """, arguments: [caller])
                }
            }
            let menu = app.phrases.text(.keypadMenu, language: language)
            let report = try await simulator.callToEnd(
                app, from: caller,
                script: CallScript(
                    [
                        .waitForAgent(timeout: .seconds(8)),
                        .say(try EdgeAgentTestAudio.speech(language == "es" ? "es-booking" : "en-booking")),
                        // A hold line, then the move to the keypad: keys are pressed once its menu
                        // has been heard (played, by Twilio's marks), however slow a busy machine is
                        // to say it. Earlier keys would be words for the model, as on any call.
                        .waitUntil(timeout: .seconds(45)) { await Self.heard(menu, on: app) },
                    ]
                        + "14#2#1930#".map { .press(String($0)) }
                        + [
                            .waitForAgentQuiet(timeout: .seconds(20), quiet: .seconds(1)),
                            .press("1"), .waitForAgent(timeout: .seconds(20)), .hangUp,
                        ]))

            // The caller was never left in silence beyond the budget.
            #expect(report.responseLatencies.count >= 3, "\(report.responseLatencies)")
            #expect(
                report.responseLatencies.allSatisfy { $0 <= .milliseconds(1500) },
                "\(fault?.description ?? "dead"): \(report.responseLatencies)")
            #expect(report.timeouts == 0)

            // The keypad booked the table, marked as such, in the caller's language.
            let reservation = try #require(try await app.database.read { db in try Reservation.fetchOne(db) })
            #expect(reservation.source == .keypad)
            #expect(reservation.partySize == 4)
            #expect(reservation.phone == caller)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.outcome == "reservation_created")
            #expect(call.language == language)
            let said = try await CallLog(database: app.database).turns(callID: call.id)
                .filter { $0.speaker == .agent }.map(\.text).joined(separator: " ")
            #expect(said.contains(app.phrases.text(.offlineNotice, language: language)))
            #expect(said.contains(app.phrases.text(.keypadBooked, language: language)))
            if report.timeouts > 0 {
                // What the agent did, for the CI log.
                print(logs.all.suffix(80).joined(separator: "\n"))
            }
            #expect(app.metrics.exposition().contains("edge_keypad_fallbacks_total 1"))
            // The call's own count of fallbacks, for the staff's list: each hold line, and the keypad
            // (stored before the end the test waited for above).
            let holdLines =
                app.metrics.exposition().split(separator: "\n")
                .first { $0.hasPrefix("edge_hold_lines_total ") }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            let fallbacks = try await app.database.read { db in
                try Double.fetchOne(
                    db, sql: "SELECT value FROM call_metrics WHERE call_id = ? AND name = 'fallbacks'",
                    arguments: [call.id])
            }
            #expect(fallbacks == Double(holdLines + 1))
            // The outbox carries the keypad booking to headquarters like any other.
            let queued = try await app.database.read { db in
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM outbox WHERE table_name = 'reservations' AND row_id = ?",
                    arguments: [reservation.id])
            }
            #expect(queued == 1)
        }
    }
}

@Suite("Offline-first: into the keypad and back", .serialized)
struct KeypadRecoveryTests {
    @Test("the model failing mid-call moves it to the keypad, and back to speech when the model recovers")
    func intoKeypadAndBack() async throws {
        let failing = OpenAIChatDouble.Answer(
            status: 500, pieces: [#"{"error":{"message":"The server had an error","type":"server_error"}}"#])
        let llm = OpenAIChatDouble([
            ScriptedLLM.text("Of course. For how many people?"), failing, failing,
            ScriptedLLM.text("Thanks for waiting, I can help again. Four people tomorrow, was it?"),
        ])
        let transcription = TranscriptionDouble([
            "Hi, I'd like a table for four people tomorrow at seven thirty.", "It's under Ada Lovelace.",
            "Yes please, that's perfect.",
        ])
        var rig = CallTestRig(llm: llm, transcription: transcription, tts: ElevenLabsDouble())
        rig.adjust = { $0.resilience.keypadRetrySeconds = 0 }
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app,
                script: try .caller(
                    saying: ["en-booking"],
                    then: [
                        .say(try EdgeAgentTestAudio.speech("en-name")),
                        .waitForAgentQuiet(timeout: .seconds(20), quiet: .milliseconds(1500)),
                        .say(try EdgeAgentTestAudio.speech("en-name")), .waitForAgent(timeout: .seconds(8)), .hangUp,
                    ]))
            #expect(report.timeouts == 0)
            #expect(report.responseLatencies.allSatisfy { $0 <= .milliseconds(1500) }, "\(report.responseLatencies)")

            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            let agentTurns = try await CallLog(database: app.database).turns(callID: call.id)
                .filter { $0.speaker == .agent }
            let said = agentTurns.map(\.text)
            #expect(said.contains { $0.contains(app.phrases.text(.offlineNotice, language: "en")) })
            #expect(said.last == "Thanks for waiting, I can help again. Four people tomorrow, was it?", "\(said)")
            // Back in the conversation, the model still has everything said before the outage.
            let requests = llm.requests.withLockedValue { $0 }
            #expect(requests.count == 4)
            guard case .array(let messages) = requests.last?["messages"] else {
                Issue.record("no messages")
                return
            }
            let contents = messages.compactMap { $0["content"]?.stringValue }
            #expect(contents.contains("Hi, I'd like a table for four people tomorrow at seven thirty."))
            #expect(contents.contains("Of course. For how many people?"))
            #expect(contents.last == "Yes please, that's perfect.")
        }
    }
}

@Suite("Offline-first: the keypad menu", .serialized)
struct KeypadMenuTests {
    @Test("* opens the keypad: 2 reads the hours, 9 switches to Spanish, 3 takes a message ended by #")
    func hoursLanguageAndMessage() async throws {
        let transcription = TranscriptionDouble([])
        var rig = CallTestRig(
            llm: OpenAIChatDouble([ScriptedLLM.text("unused")]), transcription: transcription, tts: ElevenLabsDouble())
        rig.adjust = { configuration in
            configuration.reservations.openingHours = [
                1: [], 2: [ReservationPolicy.Period("17:00-22:00")!], 3: [ReservationPolicy.Period("17:00-22:00")!],
                4: [ReservationPolicy.Period("17:00-22:00")!], 5: [ReservationPolicy.Period("17:00-23:00")!],
                6: [ReservationPolicy.Period("12:00-15:00")!, ReservationPolicy.Period("17:00-23:00")!],
                7: [ReservationPolicy.Period("12:00-21:00")!],
            ]
        }
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app,
                script: CallScript([
                    .waitForAgent(timeout: .seconds(5)),
                    .press("*"), .waitForAgent(timeout: .seconds(15)),
                    .press("2"), .waitForAgentQuiet(timeout: .seconds(30), quiet: .seconds(1)),
                    .press("9"), .waitForAgent(timeout: .seconds(15)),
                    .press("3"), .waitForAgent(timeout: .seconds(10)),
                    .say(try EdgeAgentTestAudio.speech("es-name")), .pause(.milliseconds(500)),
                    .press("#"), .waitForAgentQuiet(timeout: .seconds(15), quiet: .seconds(1)),
                    .hangUp,
                ]))
            #expect(report.timeouts == 0)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.language == "es")
            #expect(call.outcome == "message_taken")
            let said = try await CallLog(database: app.database).turns(callID: call.id)
                .filter { $0.speaker == .agent }.map(\.text).joined(separator: " ")
            #expect(said.contains("On Monday we are closed."))
            #expect(said.contains("On Saturday we are open from noon to three p.m. and from five p.m. to eleven p.m."))
            #expect(said.contains(app.phrases.text(.keypadMenu, language: "es")))
            #expect(said.contains(app.phrases.text(.keypadMessageTaken, language: "es")))
            let message = try #require(try await StaffMessageBoard(database: app.database).open().first)
            #expect(message.callbackPhone == CallTestRig.caller)
            #expect(message.language == "es")
            // Speech-to-text was up but had nothing to say: the message is a call-back note with its length.
            #expect(message.message.contains("please call back") || message.message.contains("Voice message"))
            #expect(transcription.durations.withLockedValue { $0 }.first.map { $0 > 1 } == true)
        }
    }

    @Test("3 takes a message ended by silence: three seconds after the caller stops, it is left for the staff once")
    func messageEndedBySilence() async throws {
        let rig = CallTestRig(
            llm: OpenAIChatDouble([ScriptedLLM.text("unused")]), transcription: TranscriptionDouble([]),
            tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            let board = StaffMessageBoard(database: app.database)
            let report = try await simulator.callToEnd(
                app,
                script: CallScript([
                    .waitForAgent(timeout: .seconds(5)),
                    .press("*"), .waitForAgent(timeout: .seconds(15)),
                    .press("3"), .waitForAgent(timeout: .seconds(10)),
                    .say(try EdgeAgentTestAudio.speech("en-name")),
                    // No key: only the silence after the words ends the message.
                    .waitUntil(timeout: .seconds(20)) { ((try? await board.open().count) ?? 0) > 0 },
                    .waitForAgentQuiet(timeout: .seconds(15), quiet: .seconds(1)),
                    .hangUp,
                ]))
            #expect(report.timeouts == 0)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.outcome == "message_taken")
            let said = try await CallLog(database: app.database).turns(callID: call.id)
                .filter { $0.speaker == .agent }.map(\.text).joined(separator: " ")
            #expect(said.contains(app.phrases.text(.keypadMessageTaken, language: "en")))
            let messages = try await board.open()
            #expect(messages.count == 1)
            #expect(messages.first?.callbackPhone == CallTestRig.caller)
        }
    }
}
