import Foundation
import Testing

@testable import EdgeAgent

/// Turn-taking decisions on their own: what a barge-in does to each turn under way, what a mark
/// confirms as heard, and when a turn is over.
@Suite("Turn ledger")
struct TurnLedgerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func turn(_ id: String, at seconds: Double, caller: String? = nil) -> TurnLedger.OpenTurn {
        var turn = TurnLedger.OpenTurn(id: id, endOfSpeechAt: start.addingTimeInterval(seconds))
        turn.callerText = caller
        return turn
    }

    @Test(
        "a barge-in: the turn awaiting its transcript is kept; one unheard is folded; one heard is interrupted with a note"
    )
    func bargeIn() {
        var ledger = TurnLedger()
        ledger.open["heard"] = Self.turn("heard", at: 1, caller: "do you have a table tonight")
        ledger.open["heard"]?.heard = ["Let me check."]
        ledger.open["heard"]?.answerHeard = true
        ledger.open["unheard"] = Self.turn("unheard", at: 2, caller: "for two")
        var waiting = Self.turn("waiting", at: 3)
        waiting.awaitingTranscript = true
        waiting.audioQueued = true
        ledger.open["waiting"] = waiting
        ledger.pending = [
            .init(mark: "m1", text: "We have seven thirty.", turnID: "heard"),
            .init(mark: "m2", text: "One moment.", turnID: "unheard", hold: true),
            .init(mark: "m3", text: "For two, yes.", turnID: "unheard"),
        ]

        let interruptions = ledger.interrupt()

        #expect(interruptions.map(\.turn.id) == ["heard", "unheard"])
        #expect(interruptions.map(\.folded) == [false, true])
        #expect(interruptions.map(\.unheardPieces) == [["We have seven thirty."], ["For two, yes."]])
        #expect(Array(ledger.open.keys) == ["waiting"])
        #expect(ledger.open["waiting"]?.superseded == true)
        #expect(ledger.open["waiting"]?.audioQueued == false)
        #expect(ledger.pending.isEmpty)
        #expect(ledger.carriedCallerText == "for two")
        #expect(ledger.discardedTurns == ["unheard"])
        #expect(
            ledger.interruptionNotes == [
                .system(
                    "(The caller spoke before your last answer was over. They heard: \"Let me check.\". They did not hear: "
                        + "\"We have seven thirty.\". What your tools did stands; do not do it again, tell them what they "
                        + "missed if it matters.)")
            ])
    }

    @Test(
        "a turn that booked a table is never folded, even when none of its answer was heard; a folded turn's late messages are dropped"
    )
    func sideEffectsStay() {
        var ledger = TurnLedger()
        ledger.open["booked"] = Self.turn("booked", at: 1, caller: "book it")
        let call = ChatMessage(
            role: .assistant, content: nil, toolCalls: [ToolCall(id: "c1", name: "create_reservation", arguments: "{}")]
        )
        #expect(ledger.remember([call], turnID: "booked") == [call])
        ledger.open["idle"] = Self.turn("idle", at: 2, caller: "and parking?")
        ledger.carry("earlier words")

        let interruptions = ledger.interrupt()

        #expect(interruptions.map(\.folded) == [false, true])
        #expect(ledger.carriedCallerText == "earlier words and parking?")
        #expect(ledger.interruptionNotes.count == 1)
        #expect(ledger.remember([.assistant("late")], turnID: "idle") == nil)
        #expect(ledger.remember([.assistant("next")], turnID: "other") == [.assistant("next")])
    }

    @Test("the greeting (no caller words) is interrupted without a note or carried words")
    func greeting() {
        var ledger = TurnLedger()
        ledger.open["greeting"] = TurnLedger.OpenTurn(id: "greeting")
        ledger.pending = [.init(mark: "m1", text: "Hello, Trattoria Roma.", turnID: "greeting")]
        let interruptions = ledger.interrupt()
        #expect(interruptions.count == 1)
        #expect(interruptions.first?.folded == false)
        #expect(ledger.interruptionNotes.isEmpty)
        #expect(ledger.carriedCallerText == nil)
        #expect(ledger.open.isEmpty)
    }

    @Test("marks: a hold line heard is not the answer heard; a turn closes only when done and all of it heard")
    func marksAndClosing() {
        var ledger = TurnLedger()
        ledger.open["t"] = Self.turn("t", at: 1, caller: "hours?")
        ledger.pending = [
            .init(mark: "m1", text: "One moment.", turnID: "t", hold: true),
            .init(mark: "m2", text: "We open at five.", turnID: "t"),
        ]
        #expect(ledger.played("m9") == nil)
        #expect(ledger.played("m1")?.turnID == "t")
        #expect(ledger.open["t"]?.answerHeard == false)
        #expect(ledger.open["t"]?.heard == ["One moment."])
        ledger.open["t"]?.finishedGenerating = true
        #expect(ledger.closeIfHeard("t") == nil)
        #expect(ledger.played("m2")?.text == "We open at five.")
        #expect(ledger.open["t"]?.answerHeard == true)
        let closed = ledger.closeIfHeard("t")
        #expect(closed?.heard == ["One moment.", "We open at five."])
        #expect(ledger.open.isEmpty)
        #expect(ledger.closeIfHeard("t") == nil)
    }

    @Test("queued audio: a hold line counts as audio, only the answer as the answer")
    func queued() {
        var ledger = TurnLedger()
        ledger.open["t"] = Self.turn("t", at: 1)
        ledger.queued("t", hold: true)
        #expect(ledger.open["t"]?.audioQueued == true)
        #expect(ledger.open["t"]?.answerQueued == false)
        ledger.queued("t", hold: false)
        #expect(ledger.open["t"]?.answerQueued == true)
    }
}
