import Foundation
import GRDB
import LocalStore
import Sync
import Testing

@testable import CallSimulator
@testable import EdgeAgent

/// A caller's request is carried out once: whole calls through the real Media Streams path, the
/// caller's lines spoken by espeak-ng and heard by speech-to-text doubles that transcribe what they
/// were sent, a model double that answers from the conversation it is given (so a lost tool result
/// would show as a second booking), and a simulated Twilio that plays the agent's audio in real time
/// and echoes each mark only when playback reaches it.
@Suite("One request, carried out once", .serialized)
struct OneRequestOnceTests {
    static let lines: [String: [[String]]] = [
        "en": [
            ["Hi, I would like a table for four people tomorrow at seven thirty.", "My name is Ana."],
            ["Thank you, goodbye."], ["Sorry, is it booked?"],
        ],
        "es": [
            ["Hola, quisiera una mesa para cuatro personas mañana a las siete y media.", "Me llamo Ana."],
            ["Gracias, adiós."], ["Perdón, ¿está reservada?"],
        ],
    ]

    /// One test's booking call: the caller's recorded lines, the model that books, and the agent rig
    /// that hears the lines (Deepgram in Spanish, the transcription endpoint in English).
    struct Booking {
        let spoken: SpokenLines
        let model: BookingModelDouble
        let llm: OpenAIChatDouble
        var rig: CallTestRig

        init(
            _ language: String, pause: Duration = .milliseconds(320), confirmationDelay: Duration = .zero,
            tts: ElevenLabsDouble = ElevenLabsDouble()
        ) throws {
            spoken = try SpokenLines(OneRequestOnceTests.lines[language]!, language: language, pause: pause)
            model = BookingModelDouble(
                language: language, tomorrow: CallTestRig.tomorrow, confirmationDelay: confirmationDelay)
            llm = model.double()
            rig =
                language == "es"
                ? CallTestRig(
                    llm: llm, transcription: TranscriptionDouble([]), tts: tts,
                    deepgram: DeepgramDouble(hearing: spoken))
                : CallTestRig(llm: llm, transcription: TranscriptionDouble(hearing: spoken), tts: tts)
            // The silence budget is widened: these tests are about what is booked and answered, not how
            // soon, and on a busy test machine a late answer would add a hold line to what the caller hears.
            rig.adjust = { $0.resilience.silenceBudgetSeconds = 6 }
        }

        /// The four, to take apart in a `let`.
        var parts: (SpokenLines, BookingModelDouble, OpenAIChatDouble, CallTestRig) { (spoken, model, llm, rig) }
    }

    /// The caller's messages the model was asked to answer, in order.
    static func answeredCallerMessages(_ llm: OpenAIChatDouble) -> [String] {
        llm.requests.withLockedValue { $0 }.compactMap { request in
            guard case .array(let messages) = request["messages"], messages.last?["role"] == "user" else { return nil }
            return messages.last?["content"]?.stringValue
        }
    }

    /// The conversation the model was sent when the caller had just said `text`.
    static func conversation(answering text: String, _ llm: OpenAIChatDouble) throws -> [JSONValue] {
        let conversations = llm.requests.withLockedValue { $0 }.compactMap { request -> [JSONValue]? in
            guard case .array(let messages) = request["messages"] else { return nil }
            return messages
        }
        return try #require(conversations.first { $0.last?["content"]?.stringValue == text })
    }

    /// What the agent said and was not cut off in, after its greeting.
    static func answersHeardWhole(_ turns: [ConversationTurn]) -> [String] {
        turns.filter { $0.speaker == .agent && !$0.interrupted }.dropFirst().map(\.text)
    }

    /// After the booking line and something in between: the caller asks whether it is booked, hears
    /// the answer, says goodbye, hears that, and the agent hangs up.
    static func askThenGoodbye(_ spoken: SpokenLines) -> [CallScript.Step] {
        [
            .say(spoken.audio[2]), .waitForPlayback(timeout: .seconds(15), pause: .milliseconds(600)),
            .say(spoken.audio[1]), .waitForPlayback(timeout: .seconds(10), pause: .milliseconds(500)),
            .pause(.seconds(1)), .hangUp,
        ]
    }

    /// The booking line; then, once `played` of the answer has played, the question over it, and
    /// goodbye (``askThenGoodbye(_:)``).
    static func speakOverTheAnswer(_ spoken: SpokenLines, after played: Duration) -> CallScript {
        CallScript(
            [
                .waitForPlayback(timeout: .seconds(10), pause: .milliseconds(600)),
                .say(spoken.audio[0]),
                .waitForAgentAudio(played: played, timeout: .seconds(10)),
            ] + askThenGoodbye(spoken))
    }

    /// The note the model was given about an answer the caller spoke over (the system message after
    /// the prompt).
    static func interruptionNote(in messages: [JSONValue]) -> String? {
        messages.dropFirst().first { $0["role"] == "system" }?["content"]?.stringValue
    }

    static func reservations(_ app: EdgeAgentApp) async throws -> [Reservation] {
        try await app.database.read { db in try Reservation.fetchAll(db) }
    }

    static func bookingsRun(_ app: EdgeAgentApp) async throws -> Int {
        try await app.database.read { db in
            try ToolExecution.filter(Column("tool") == "create_reservation").fetchCount(db)
        }
    }

    /// The two-line call: the booking (two sentences in one breath), then goodbye after hearing the
    /// whole confirmation.
    ///
    /// - Parameter lateBy: how much later than the others this caller starts speaking, so calls that
    ///   arrive together do not all finish their sentences in the same millisecond.
    static func twoLineScript(_ spoken: SpokenLines, lateBy: Duration = .zero) -> CallScript {
        CallScript([
            .waitForPlayback(timeout: .seconds(10), pause: .milliseconds(600) + lateBy),
            .say(spoken.audio[0]), .waitForPlayback(timeout: .seconds(15), pause: .milliseconds(700)),
            .say(spoken.audio[1]), .waitForPlayback(timeout: .seconds(10), pause: .milliseconds(500)),
            .pause(.seconds(1)), .hangUp,
        ])
    }

    @Test(
        "the two-line call: one reservation, every line answered once, no clear, goodbye answered",
        arguments: ["en", "es"])
    func twoLineCall(language: String) async throws {
        let (spoken, model, llm, rig) = try Booking(language).parts
        try await rig.run { app, simulator in
            var simulator = simulator
            simulator.jitter = .milliseconds(40)
            let report = try await simulator.callToEnd(
                app, callSid: "CA00000000000000000000000000011a\(language == "en" ? "01" : "02")",
                script: Self.twoLineScript(spoken))

            let reservations = try await Self.reservations(app)
            #expect(reservations.count == 1)
            #expect(reservations.first?.name == "Ana" && reservations.first?.partySize == 4)
            #expect(try await Self.bookingsRun(app) == 1)
            // Every caller line answered exactly once, as said (not joined with the next).
            #expect(Self.answeredCallerMessages(llm) == Array(spoken.texts.prefix(2)))
            #expect(report.clears == 0)
            #expect(report.timeouts == 0)
            #expect(report.marksEchoed == report.marksSent)
            #expect(report.agentHungUp)
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            #expect(turns.filter { $0.speaker == .caller }.map(\.text) == Array(spoken.texts.prefix(2)))
            let agent = turns.filter { $0.speaker == .agent }
            #expect(agent.allSatisfy { !$0.interrupted })
            #expect(agent.dropFirst().map(\.text) == [model.confirmation, model.goodbye])
        }
    }

    @Test(
        "speaking over the confirmation halfway: the booking stays single, its result goes to the model",
        arguments: ["en", "es"])
    func speakingOverTheConfirmation(language: String) async throws {
        let (spoken, model, llm, rig) = try Booking(language).parts
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA00000000000000000000000000011b\(language == "en" ? "01" : "02")",
                // Part-way into the confirmation (its first sentence heard), the caller asks.
                script: Self.speakOverTheAnswer(spoken, after: .milliseconds(1800)))

            #expect(try await Self.reservations(app).count == 1)
            #expect(try await Self.bookingsRun(app) == 1)
            #expect(report.clears == 1)
            #expect(report.clearsOfNothing == 0)
            #expect(Self.answeredCallerMessages(llm) == [spoken.texts[0], spoken.texts[2], spoken.texts[1]])
            // The request answering the question over the confirmation carries the booking and what was missed.
            let messages = try Self.conversation(answering: spoken.texts[2], llm)
            #expect(model.hasBooking(messages))
            #expect(Self.interruptionNote(in: messages)?.contains("They did not hear") == true)
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            let cut = try #require(turns.first { $0.interrupted })
            #expect(model.confirmation.hasPrefix(cut.text) && !cut.text.isEmpty)
            #expect(cut.unheardText?.isEmpty == false)
            // Every word of the cut answer is on record as heard or not heard, none twice.
            #expect("\(cut.text) \(cut.unheardText ?? "")" == model.confirmation)
            #expect(
                Self.answersHeardWhole(turns) == [
                    model.alreadyBooked, model.goodbye,
                ])
        }
    }

    @Test(
        "speaking while the confirmation's first sentence is still coming from ElevenLabs: that sentence is on record as not heard, and the model is told"
    )
    func speakingOverAStreamingSentence() async throws {
        // The confirmation's first sentence (1.3 s of audio) takes 2.75 s to arrive.
        let (spoken, model, llm, rig) = try Booking(
            "en", tts: ElevenLabsDouble(fault: .slow(textsStartingWith: "Wonderful"))
        ).parts
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA00000000000000000000000000011f01",
                script: Self.speakOverTheAnswer(spoken, after: .milliseconds(400)))

            #expect(try await Self.reservations(app).count == 1)
            #expect(try await Self.bookingsRun(app) == 1)
            // Frames of the sentence were at Twilio with no mark after them: the clear cut something.
            #expect(report.clears == 1)
            #expect(report.clearsOfNothing == 0)
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            let cut = try #require(turns.first { $0.interrupted })
            #expect(cut.text.isEmpty)
            let unheard = try #require(cut.unheardText)
            #expect(!unheard.isEmpty && model.confirmation.hasPrefix(unheard))
            let messages = try Self.conversation(answering: spoken.texts[2], llm)
            #expect(Self.interruptionNote(in: messages)?.contains("They did not hear: \"\(unheard)\"") == true)
        }
    }

    @Test("speaking before any audio of the booking turn was heard: still one booking", arguments: ["en", "es"])
    func speakingBeforeTheConfirmation(language: String) async throws {
        let (spoken, model, llm, rig) = try Booking(language, confirmationDelay: .seconds(3)).parts
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA00000000000000000000000000011c\(language == "en" ? "01" : "02")",
                script: CallScript(
                    [
                        .waitForPlayback(timeout: .seconds(10), pause: .milliseconds(600)),
                        .say(spoken.audio[0]),
                        // The table is booked; the model is still wording the confirmation when the caller asks.
                        .waitUntil(timeout: .seconds(10)) { (try? await Self.reservations(app).count) == 1 },
                    ] + Self.askThenGoodbye(spoken)))

            #expect(try await Self.reservations(app).count == 1)
            #expect(try await Self.bookingsRun(app) == 1)
            #expect(report.timeouts == 0)
            #expect(report.clearsOfNothing == 0)
            #expect(Self.answeredCallerMessages(llm) == [spoken.texts[0], spoken.texts[2], spoken.texts[1]])
            let messages = try Self.conversation(answering: spoken.texts[2], llm)
            #expect(model.hasBooking(messages))
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            #expect(
                Self.answersHeardWhole(turns) == [
                    model.alreadyBooked, model.goodbye,
                ])
        }
    }

    @Test("20 two-line calls at once: exactly 20 reservations, every line answered once", arguments: ["en", "es"])
    func twentyCalls(language: String) async throws {
        var booking = try Booking(language)
        let adjust = booking.rig.adjust
        booking.rig.adjust = {
            adjust(&$0)
            $0.reservations.seatsPerSlot = 200
        }
        let (spoken, model, llm, rig) = booking.parts
        try await rig.run { app, simulator in
            let reports = try await withThrowingTaskGroup(of: CallReport.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await simulator.call(
                            callSid: "CA" + String(format: "%032x", 0xd00 + index),
                            from: "+1555020\(String(format: "%04d", index))",
                            script: Self.twoLineScript(spoken, lateBy: .milliseconds(150 * index)))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await app.waitForEnd(of: reports.map(\.callID))

            let reservations = try await Self.reservations(app)
            #expect(reservations.count == 20)
            #expect(Set(reservations.compactMap(\.phone)).count == 20)
            #expect(try await Self.bookingsRun(app) == 20)
            #expect(Self.answeredCallerMessages(llm).count == 40)
            for report in reports {
                let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
                #expect(turns.filter { $0.speaker == .caller }.map(\.text) == Array(spoken.texts.prefix(2)))
                #expect(
                    Self.answersHeardWhole(turns) == [
                        model.confirmation, model.goodbye,
                    ])
                #expect(report.agentHungUp)
            }
        }
    }

    @Test("a caller who pauses long between sentences: the words are answered together, one booking")
    func longPauseMidLine() async throws {
        // 900 ms between the sentences: the voice detector ends the utterance in the pause and the agent
        // starts on the first half; the second half folds it (nothing heard, nothing done) into one answer.
        let (spoken, model, llm, rig) = try Booking("en", pause: .milliseconds(900)).parts
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA00000000000000000000000000011e01", script: Self.twoLineScript(spoken))
            #expect(try await Self.reservations(app).count == 1)
            #expect(try await Self.bookingsRun(app) == 1)
            let answered = Self.answeredCallerMessages(llm)
            #expect(answered.suffix(2) == [spoken.texts[0], spoken.texts[1]])
            #expect(report.clearsOfNothing == 0)
            let turns = try await CallLog(database: app.database).turns(callID: report.callID ?? "")
            #expect(
                turns.filter { $0.speaker == .caller }.map(\.text).joined(separator: " ")
                    == spoken.texts.prefix(2).joined(separator: " "))
            #expect(
                Self.answersHeardWhole(turns) == [
                    model.confirmation, model.goodbye,
                ])
        }
    }
}
