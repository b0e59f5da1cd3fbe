import Foundation
import Sync
import Tracing

extension CallSession {
    /// Writes the spans of a turn that answered the caller, when its row is written (the greeting
    /// answers nobody and is not traced). Only ids, the language and timings go into them.
    func traceTurn(_ timing: OpenTurn, interrupted: Bool) {
        guard let endOfSpeechAt = timing.endOfSpeechAt else { return }
        tracedTurnCount += 1
        let trace = TurnTrace(
            callID: call.id, callSid: call.callSid, turnID: timing.id, language: language, index: tracedTurnCount,
            interrupted: interrupted, endOfSpeechAt: endOfSpeechAt, transcriptFinalAt: timing.transcriptFinalAt,
            firstTokenAt: timing.firstTokenAt, firstAudioAt: timing.firstAudioAt, firstFrameAt: timing.firstFrameAt,
            endedAt: Date(), tools: timing.tools)
        tracedTurns[timing.id] = TurnTracer(tracer: services.tracer).record(trace)
    }

    /// A tool run joins its turn's spans: kept with the open turn, or, when the turn was cut off while
    /// the tool ran, recorded at once under the turn's span.
    func traceToolRun(_ execution: ToolExecution) {
        guard let turnID = execution.turnID else { return }
        let run = TurnTrace.ToolRun(execution)
        if turns.open[turnID] != nil {
            turns.open[turnID]?.tools.append(run)
        } else if let context = tracedTurns[turnID] {
            TurnTracer(tracer: services.tracer).record(run, under: context)
        }
    }
}
