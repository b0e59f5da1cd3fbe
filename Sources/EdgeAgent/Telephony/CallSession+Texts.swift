import Foundation

/// Text confirmations in a call: a booking, change or cancellation queues its text in its own
/// transaction (the tools do that); when no Lookup tells a mobile from a landline, the caller is
/// asked to press 1 for it, and only then is it sent. The call's unconsented texts are dropped when
/// it ends.
extension CallSession {
    /// Tools whose success queues a text.
    static let textingTools: Set<String> = ["create_reservation", "update_reservation", "cancel_reservation"]

    /// A writing tool succeeded: its text may be waiting (for consent, or due at once).
    func toolMayHaveQueuedText(_ tool: String) {
        guard Self.textingTools.contains(tool), let texts = services.texts else { return }
        textQueuedThisTurn = true
        texts.signal.wake()
    }

    /// At the end of an answer that queued a text needing consent, asks for it once.
    func askForTextConsent(turnID: String) async {
        guard textQueuedThisTurn, let texts = services.texts, !texts.writer.lookupConfigured else { return }
        textQueuedThisTurn = false
        // Saying goodbye: no time left to answer; the text is dropped with the call.
        guard !endAfterPlayback else { return }
        guard (try? await texts.queue.awaitingConsent(callID: call.id)) ?? 0 > 0 else { return }
        awaitingTextConsent = true
        await speak(line(.textConsent), turnID: turnID)
    }

    /// A key pressed after the question: 1 consents; any other key is the caller's own.
    /// - Returns: whether the key was the answer.
    func answerTextConsent(_ digit: String) async -> Bool {
        guard awaitingTextConsent else { return false }
        awaitingTextConsent = false
        guard digit == "1", let texts = services.texts else { return false }
        do {
            try await texts.queue.consent(callID: call.id)
            texts.signal.wake()
        } catch {
            logger.error("the caller's consent to a text was not stored", metadata: ["error": "\(error)"])
            return true
        }
        let id = UUID().uuidString.lowercased()
        turns.open[id] = OpenTurn(id: id, endOfSpeechAt: Date())
        generatingTurnID = id
        let previous = turnTask
        startTurnTask(id) {
            await previous?.value
            await self.speak(self.line(.textConsentGiven), turnID: id)
            await self.finishGenerating(id)
        }
        return true
    }

    /// The call is over: texts it never got consent for are not sent.
    func dropUnconsentedTexts() async {
        guard let texts = services.texts else { return }
        try? await texts.queue.dropUnconsented(callID: call.id)
    }
}
