import Foundation
import LocalStore
import Sync
import Tracing

/// The timing of one answered caller turn, as its call session knows it once the turn is over.
///
/// It holds identifiers, a language, counters and instants only: never the caller's number, name or
/// words, nor a tool's arguments or result.
struct TurnTrace: Sendable, Equatable {
    /// A tool the model ran during the turn.
    struct ToolRun: Sendable, Equatable {
        /// The tool's name (`create_reservation`, ...).
        let name: String
        let succeeded: Bool
        let startedAt: Date
        let endedAt: Date

        /// The run an execution row describes (its start and duration are whole milliseconds).
        init(_ execution: ToolExecution) {
            name = execution.tool
            succeeded = execution.status == .ok
            startedAt = Date(unixMilliseconds: execution.startedAt)
            endedAt = Date(unixMilliseconds: execution.startedAt + Int64(execution.durationMilliseconds))
        }

        init(name: String, succeeded: Bool, startedAt: Date, endedAt: Date) {
            self.name = name
            self.succeeded = succeeded
            self.startedAt = startedAt
            self.endedAt = endedAt
        }
    }

    let callID: String
    let callSid: String
    /// The turn's row id in the call's log.
    let turnID: String
    let language: String
    /// 1 for the call's first answered turn, 2 for the next, ...
    let index: Int
    /// The caller spoke over the answer or hung up before hearing all of it.
    let interrupted: Bool
    let endOfSpeechAt: Date
    var transcriptFinalAt: Date?
    var firstTokenAt: Date?
    var firstAudioAt: Date?
    var firstFrameAt: Date?
    /// When the turn was closed: its answer heard, cut off, or the call over.
    let endedAt: Date
    var tools: [ToolRun] = []
}

/// Writes a finished turn as spans, with the instants the session measured, so each span shows when
/// its stage really ran: `call.turn` from the end of the caller's speech until the turn closed, and
/// under it `stt`, `llm`, `tts` and `first_frame` (the stages of `edge_turn_stage_seconds`, each
/// present when both its ends are known) and one `tool` span per tool run.
struct TurnTracer: Sendable {
    /// The span names, in the order of the stages.
    enum Name {
        static let turn = "call.turn"
        static let stt = "stt"
        static let llm = "llm"
        static let tts = "tts"
        static let firstFrame = "first_frame"
        static let tool = "tool"
    }

    let tracer: any Tracer

    /// Records `turn` and its children; returns the context of its `call.turn` span, for a tool whose
    /// run ends after the turn (an interrupted turn lets a running tool finish).
    @discardableResult
    func record(_ turn: TurnTrace) -> InstrumentationContext {
        let span = tracer.startSpan(Name.turn, context: .topLevel, at: Self.instant(turn.endOfSpeechAt))
        span.updateAttributes { attributes in
            attributes["call.id"] = turn.callID
            attributes["call.sid"] = turn.callSid
            attributes["call.language"] = turn.language
            attributes["turn.id"] = turn.turnID
            attributes["turn.index"] = turn.index
            attributes["turn.interrupted"] = turn.interrupted
        }
        let context = span.context
        let stages: [(String, Date?, Date?)] = [
            (Name.stt, turn.endOfSpeechAt, turn.transcriptFinalAt),
            (Name.llm, turn.transcriptFinalAt, turn.firstTokenAt),
            (Name.tts, turn.firstTokenAt, turn.firstAudioAt),
            (Name.firstFrame, turn.firstAudioAt, turn.firstFrameAt),
        ]
        for case (let name, let start?, let end?) in stages where end >= start {
            tracer.startSpan(name, context: context, at: Self.instant(start)).end(at: Self.instant(end))
        }
        for tool in turn.tools {
            record(tool, under: context)
        }
        span.end(at: Self.instant(max(turn.endedAt, turn.endOfSpeechAt)))
        return context
    }

    /// Records one tool run under the turn span of `context`: its name and outcome, never its arguments.
    func record(_ tool: TurnTrace.ToolRun, under context: InstrumentationContext) {
        let span = tracer.startSpan(Name.tool, context: context, at: Self.instant(tool.startedAt))
        span.updateAttributes { attributes in
            attributes["tool.name"] = tool.name
            attributes["tool.outcome"] = tool.succeeded ? "ok" : "error"
        }
        span.end(at: Self.instant(max(tool.endedAt, tool.startedAt)))
    }

    /// `date` on the tracing clock (nanoseconds since 1970). Whole seconds and the fraction are
    /// converted apart: a `Double` of nanoseconds since 1970 would be off by up to 128 ns.
    static func instant(_ date: Date) -> DefaultTracerClock.Instant {
        let seconds = max(0, date.timeIntervalSince1970)
        let whole = seconds.rounded(.down)
        let nanoseconds = UInt64(whole) * 1_000_000_000 + UInt64(((seconds - whole) * 1e9).rounded())
        return DefaultTracerClock.Instant(nanosecondsSinceEpoch: nanoseconds)
    }
}
