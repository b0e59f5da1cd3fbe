import Foundation
import GRDB
import InMemoryTracing
import LocalStore
import Sync
import Testing
import Tracing

@testable import CallSimulator
@testable import EdgeAgent

/// A whole call through the simulator with an in-memory tracer: the spans of its turns, against what
/// the call stored.
@Suite("Traced calls", .serialized)
struct TracedCallTests {
    @Test("a booking call: one call.turn per answer, its stages back to back, its tool, no personal data")
    func bookingSpans() async throws {
        let llm = OpenAIChatDouble([
            ScriptedLLM.checkAdasTable,
            ScriptedLLM.text("We have a table for four tomorrow at seven thirty. What name should I put it under?"),
            ScriptedLLM.bookAdasTable,
            ScriptedLLM.tool("end_call", "{}", text: "You're all set, Ada. Goodbye!"),
        ])
        let transcription = TranscriptionDouble([
            "Hi, I'd like a table for four people tomorrow at seven thirty.", "It's under Ada Lovelace.",
        ])
        let tracer = InMemoryTracer()
        var rig = CallTestRig(llm: llm, transcription: transcription, tts: ElevenLabsDouble())
        rig.tracer = tracer
        let callSid = "CA0000000000000000000000000000span"
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: callSid,
                script: try .caller(saying: ["en-booking", "en-name"], then: [.pause(.seconds(2)), .hangUp]))
            #expect(report.timeouts == 0)
            #expect(report.agentHungUp)

            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            let rows = try await CallLog(database: app.database).turns(callID: call.id)
            let tools = try await app.database.read { db in
                try ToolExecution.order(Column("started_at")).fetchAll(db)
            }
            let spans = tracer.finishedSpans
            #expect(tracer.activeSpans.isEmpty)
            // Two answers, each: call.turn, stt, llm, tts, first_frame and one tool. The greeting answers nobody.
            #expect(spans.count == 12)
            let turns = spans.filter { $0.operationName == "call.turn" }
                .sorted { $0.start < $1.start }
            #expect(turns.count == 2)
            #expect(turns.map { $0.attributes.get("turn.index") } == [.int64(1), .int64(2)])
            for (turn, tool) in zip(turns, tools) {
                #expect(turn.parentSpanID == nil)
                #expect(turn.attributes.get("call.id") == .string(call.id))
                #expect(turn.attributes.get("call.sid") == .string(callSid))
                #expect(turn.attributes.get("call.language") == .string("en"))
                #expect(turn.attributes.get("turn.interrupted") == .bool(false))
                let children = spans.filter { $0.parentSpanID == turn.spanID }
                #expect(children.map(\.operationName).sorted() == ["first_frame", "llm", "stt", "tool", "tts"])
                #expect(children.allSatisfy { $0.traceID == turn.traceID })
                #expect(children.allSatisfy { $0.start >= turn.start && $0.start <= $0.end && $0.end <= turn.end })
                func stage(_ name: String) throws -> FinishedInMemorySpan {
                    try #require(children.first { $0.operationName == name })
                }
                let (stt, llmStage, tts, firstFrame) = try (
                    stage("stt"), stage("llm"), stage("tts"), stage("first_frame")
                )
                // The stages follow each other from the end of the caller's speech to the first frame.
                #expect(stt.start == turn.start)
                #expect(llmStage.start == stt.end && tts.start == llmStage.end && firstFrame.start == tts.end)
                // The same instants as the turn's row (which keeps milliseconds).
                guard case .string(let rowID) = turn.attributes.get("turn.id") else {
                    Issue.record("call.turn without turn.id")
                    continue
                }
                let row = try #require(rows.first { $0.id == rowID })
                #expect(row.speaker == .agent)
                #expect(sameMillisecond(stt.start, row.endOfSpeechAt))
                #expect(sameMillisecond(llmStage.start, row.transcriptFinalAt))
                #expect(sameMillisecond(tts.start, row.firstTokenAt))
                #expect(sameMillisecond(firstFrame.start, row.firstAudioAt))
                #expect(sameMillisecond(firstFrame.end, row.firstFrameAt))
                // The tool span is the tool's execution row.
                let toolSpan = try stage("tool")
                #expect(toolSpan.attributes.get("tool.name") == .string(tool.tool))
                #expect(toolSpan.attributes.get("tool.outcome") == .string("ok"))
                #expect(sameMillisecond(toolSpan.start, tool.startedAt))
                #expect(tool.turnID == row.id)
            }
            #expect(tools.map(\.tool) == ["check_availability", "create_reservation"])
            #expect(rows.filter { $0.speaker == .agent }.count == 3)

            // Never the caller's number, name or words.
            let texts = spans.flatMap(\.attributeTexts)
            let forbidden = [
                "5551234567", "Ada", "Lovelace", "table", "four", "people", "tomorrow", "seven", "thirty", "under",
                "Goodbye",
            ]
            for word in forbidden {
                #expect(!texts.contains { $0.contains(word) }, "\(word) in a span")
            }
        }
    }

    @Test("talking over the agent: each answer's call.turn says whether it was cut off, in the caller's language")
    func bargeInSpans() async throws {
        let (llm, deepgram) = SpanishBargeIn.doubles()
        let tracer = InMemoryTracer()
        var rig = CallTestRig(
            llm: llm, transcription: TranscriptionDouble([]), tts: ElevenLabsDouble(), deepgram: deepgram)
        rig.tracer = tracer
        try await rig.run { app, simulator in
            let report = try await simulator.callToEnd(
                app, callSid: "CA000000000000000000000000000barge", from: "+34600111222",
                script: try SpanishBargeIn.script())
            #expect(report.clears >= 1)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            // Every answer's row has its call.turn, with the same id and the same interrupted flag.
            let answers = try await CallLog(database: app.database).turns(callID: call.id).filter {
                $0.speaker == .agent && $0.endOfSpeechAt != nil
            }
            let spans = tracer.finishedSpans
            #expect(tracer.activeSpans.isEmpty)
            let turns = spans.filter { $0.operationName == "call.turn" }
            #expect(turns.count == answers.count)
            #expect(answers.contains { $0.interrupted })
            for answer in answers {
                let matching = turns.filter { $0.attributes.get("turn.id") == .string(answer.id) }
                #expect(matching.count == 1)
                #expect(matching.first?.attributes.get("turn.interrupted") == .bool(answer.interrupted))
                #expect(matching.first?.attributes.get("call.language") == .string("es"))
            }
            // The booking ran once, under one of the turns.
            let tools = spans.filter { $0.operationName == "tool" }
            #expect(tools.map { $0.attributes.get("tool.name") } == [.string("create_reservation")])
            #expect(tools.allSatisfy { tool in turns.contains { $0.spanID == tool.parentSpanID } })
            let texts = spans.flatMap(\.attributeTexts)
            for word in ["34600111222", "Carmen", "García", "mesa", "personas", "nombre", "Listo"] {
                #expect(!texts.contains { $0.contains(word) }, "\(word) in a span")
            }
        }
    }
}

/// Whether a span instant (nanoseconds) and a stored one (milliseconds) are the same moment, give or
/// take the rounding to milliseconds.
private func sameMillisecond(_ nanoseconds: UInt64, _ milliseconds: Int64?) -> Bool {
    guard let milliseconds else { return false }
    return abs(Int64((Double(nanoseconds) / 1e6).rounded()) - milliseconds) <= 1
}
