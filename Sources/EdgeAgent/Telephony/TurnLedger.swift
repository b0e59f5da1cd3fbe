import Foundation

/// Turn-taking on a call: the agent's turns from the end of the caller's words until their audio has
/// been heard (or cut off), the pieces of speech at Twilio not yet confirmed played, and what a barge-in
/// does to each turn under way. A value the call's actor owns; it neither waits nor sends, so each of
/// its decisions is tested on its own.
struct TurnLedger {
    /// A piece of speech sent to Twilio and not yet confirmed played by its mark.
    struct PendingPiece {
        let mark: String
        let text: String
        let turnID: String?
        /// A hold line (said while the answer is late), not the answer itself.
        var hold = false
    }

    /// An agent turn from the end of the caller's words until its audio has been heard (or cut off):
    /// its row is written then, with what the caller heard and what they did not.
    struct OpenTurn {
        let id: String
        /// What the caller said that this turn answers (carried into the next turn if none of this one is heard).
        var callerText: String?
        var endOfSpeechAt: Date?
        var transcriptFinalAt: Date?
        var firstTokenAt: Date?
        var firstAudioAt: Date?
        var firstFrameAt: Date?
        /// The tools run for this turn so far, for its spans.
        var tools: [TurnTrace.ToolRun] = []
        var heard: [String] = []
        /// A piece of the answer itself (not a hold line) has been heard: its mark came back.
        var answerHeard = false
        var finishedGenerating = false
        /// Frames of the answer itself (not a hold line) have been queued.
        var answerQueued = false
        /// Frames of anything (a hold line included) have been queued.
        var audioQueued = false
        /// The turn still waits for the transcript of the caller's words.
        var awaitingTranscript = false
        /// The caller went on speaking before the transcript came: these words join the next turn's.
        var superseded = false
        /// Where this turn's caller message stands in the history.
        var historyIndex: Int?
        /// The task answering this turn.
        var task: Task<Void, Never>?
    }

    /// What a barge-in did to one turn that had started answering.
    struct Interruption {
        /// The turn as it was, to be recorded as interrupted; its task is to be cancelled.
        let turn: OpenTurn
        /// The pieces of its answer the caller did not hear.
        let unheardPieces: [String]
        /// Nothing of its answer was heard and it changed nothing: its words join the next turn's,
        /// and its messages leave the history.
        let folded: Bool
    }

    /// Tools whose call changes something outside the conversation.
    static let sideEffectTools: Set<String> = [
        "create_reservation", "update_reservation", "cancel_reservation", "take_message", "transfer_to_staff",
    ]

    /// The turns under way, by id.
    var open: [String: OpenTurn] = [:]
    /// Speech at Twilio whose mark has not come back, oldest first.
    var pending: [PendingPiece] = []
    /// Caller words whose answer was cut off before any of it was heard: the next turn answers them too.
    var carriedCallerText: String?
    /// Turns that asked for a tool that changes data (a booking, a message): their messages stay in
    /// the history whatever the caller heard, because what the tool did is a fact of the call.
    var turnsWithSideEffects: Set<String> = []
    /// Turns folded into the next one (nothing heard, nothing done): messages they send late are dropped.
    var discardedTurns: Set<String> = []
    /// Notes for the model on answers the caller did not hear, added once the interrupted turn has
    /// stored all of its messages (so a tool's result stays right after the call that asked for it).
    var interruptionNotes: [ChatMessage] = []

    /// Adds `text` to the caller words carried into the next turn.
    mutating func carry(_ text: String) {
        carriedCallerText = [carriedCallerText, text].compactMap { $0 }.joined(separator: " ")
    }

    /// The caller spoke (or pressed a key) over the agent. Each turn under way, oldest first:
    /// - still waiting for its transcript: kept, and marked superseded (its words join the next turn's);
    /// - nothing of its answer heard, and no tool asked to change data: folded into the next turn;
    /// - otherwise interrupted, with a note for the model of what the caller heard and did not.
    ///
    /// Every turn but those waiting for a transcript leaves the ledger, and nothing is pending after.
    mutating func interrupt() -> [Interruption] {
        var interruptions: [Interruption] = []
        for turn in open.values.sorted(by: {
            ($0.endOfSpeechAt ?? .distantPast) < ($1.endOfSpeechAt ?? .distantPast)
        }) {
            if turn.awaitingTranscript {
                open[turn.id]?.superseded = true
                open[turn.id]?.audioQueued = false
                continue
            }
            let unheardPieces = pending.filter { $0.turnID == turn.id && !$0.hold }.map(\.text)
            var folded = false
            if let callerText = turn.callerText {
                if !turn.answerHeard && !turnsWithSideEffects.contains(turn.id) {
                    carry(callerText)
                    discardedTurns.insert(turn.id)
                    folded = true
                } else {
                    interruptionNotes.append(Self.interruptionNote(heard: turn.heard, unheard: unheardPieces))
                }
            }
            open[turn.id] = nil
            interruptions.append(Interruption(turn: turn, unheardPieces: unheardPieces, folded: folded))
        }
        pending.removeAll()
        return interruptions
    }

    /// What the model is told of an answer the caller spoke over.
    static func interruptionNote(heard: [String], unheard: [String]) -> ChatMessage {
        var text = "(The caller spoke before your last answer was over."
        text += heard.isEmpty ? " They heard none of it." : " They heard: \"\(heard.joined(separator: " "))\"."
        if !unheard.isEmpty { text += " They did not hear: \"\(unheard.joined(separator: " "))\"." }
        text += " What your tools did stands; do not do it again, tell them what they missed if it matters.)"
        return .system(text)
    }

    /// Twilio played up to `mark`: its piece was heard. Returns the piece, nil when no piece has that mark.
    mutating func played(_ mark: String) -> PendingPiece? {
        guard let index = pending.firstIndex(where: { $0.mark == mark }) else { return nil }
        let piece = pending.remove(at: index)
        if let turnID = piece.turnID {
            open[turnID]?.heard.append(piece.text)
            if !piece.hold { open[turnID]?.answerHeard = true }
        }
        return piece
    }

    /// Takes out turn `turnID` once it has said everything and all of it has been heard.
    mutating func closeIfHeard(_ turnID: String) -> OpenTurn? {
        guard let turn = open[turnID], turn.finishedGenerating, !pending.contains(where: { $0.turnID == turnID })
        else { return nil }
        open[turnID] = nil
        return turn
    }

    /// Messages turn `turnID` adds to the history; nil when the turn was folded (they are dropped).
    mutating func remember(_ messages: [ChatMessage], turnID: String) -> [ChatMessage]? {
        guard !discardedTurns.contains(turnID) else { return nil }
        for message in messages {
            if let calls = message.toolCalls, calls.contains(where: { Self.sideEffectTools.contains($0.name) }) {
                turnsWithSideEffects.insert(turnID)
            }
        }
        return messages
    }

    /// Audio of `turnID` went to the pacer.
    mutating func queued(_ turnID: String, hold: Bool) {
        open[turnID]?.audioQueued = true
        if !hold { open[turnID]?.answerQueued = true }
    }
}
