import AudioIO
import Foundation

/// How the call answers the way the caller sounds (``CallerMood``): a calmer, slower voice and a note
/// to the model when they are strained, once upset an offer of a person or a call-back, and a
/// slower or louder voice for the rest of the call when they ask for one.
extension CallSession {
    /// How the agent speaks now: slower as often as the caller asked, calmer while they are strained.
    var delivery: VoiceStyle.Delivery {
        VoiceStyle.Delivery(calmer: mood.level >= .strained, slowerSteps: slowerRequested)
    }

    /// Reads a caller turn's words and how they were said.
    func readMood(_ text: String) -> CallerMood.Reading {
        let signals = CallerMood.Signals(
            interruptedAgent: interruptedSinceLastReading, louderThanUsual: listener.lastUtteranceLouderThanUsual)
        interruptedSinceLastReading = false
        let reading = mood.hear(text, signals: signals)
        if reading.level >= .strained {
            logger.info(
                "the caller sounds \(reading.level == .upset ? "upset" : "strained")",
                metadata: ["call.frustration": .stringConvertible(reading.score)])
        }
        return reading
    }

    /// What the model is told about how the caller sounds, when it matters.
    func moodNote(_ reading: CallerMood.Reading) -> ChatMessage? {
        let cues = reading.cues.map(\.rawValue).joined(separator: ", ")
        if reading.cues.contains(.askedForPerson) {
            return .system(
                services.canTransfer
                    ? "(The caller asked for a person. Say you are putting them through and call transfer_to_staff now.)"
                    : "(The caller asked for a person, but calls cannot be transferred here. Apologise and offer to "
                        + "take a message so the staff call them back, with take_message.)")
        }
        guard reading.level >= .strained else { return nil }
        return .system(
            "(The caller sounds frustrated (\(cues)). Acknowledge it once, briefly and sincerely; keep to one short "
                + "sentence or two; do not repeat what already failed; if you cannot help, offer a person or a "
                + "call-back.)")
    }

    /// Whether this turn is answered by the offer of a person or a call-back instead of the model:
    /// once per call, when the caller is upset and has not asked for a person themselves.
    func offersEscalation(_ reading: CallerMood.Reading) -> Bool {
        reading.level == .upset && !reading.cues.contains(.askedForPerson) && escalations == 0
    }

    /// Says the offer (a cached line, so the upset caller waits for no model) and tells the model.
    func offerEscalation(turnID: String) async {
        escalations += 1
        services.metrics.escalations.increment()
        let key: PhraseBook.Key = services.canTransfer ? .escalationOffer : .escalationOfferMessage
        let offer = line(key)
        logger.info("offered the caller a person or a call-back")
        history.append(.assistant(offer.text))
        history.append(
            .system(
                services.canTransfer
                    ? "(You offered to put the caller through to staff or to take a message for a call-back. If they "
                        + "want a person, call transfer_to_staff; for a call-back, take_message.)"
                    : "(You offered to take a message for a call-back. If they agree, take it with take_message.)"))
        await speak(offer, turnID: turnID)
    }

    /// A caller turn that counts as an escalation because they asked for a person.
    func noteEscalation(_ reading: CallerMood.Reading) {
        guard reading.cues.contains(.askedForPerson), escalations == 0 else { return }
        escalations += 1
        services.metrics.escalations.increment()
    }

    /// The caller asked for a slower or louder voice: so it is for the rest of the call.
    func followVoiceRequests(in text: String) {
        let words = CallerMood.normalised(text)
        if CallerMood.contains(words, any: Self.slowerRequests) {
            slowerRequested = min(slowerRequested + 1, Self.maximumSlowerSteps)
            logger.info("the caller asked for a slower voice")
        }
        if CallerMood.contains(words, any: Self.louderRequests) {
            outboundGainDecibels = min(Self.maximumGainDecibels, outboundGainDecibels + 6)
            logger.info("the caller asked for a louder voice")
        }
    }

    static let slowerRequests = [
        "slower", "slow down", "more slowly", "speak slowly", "talk slowly", "too fast", "mas despacio",
        "mas lento", "hable despacio", "habla despacio", "muy rapido",
    ]
    static let louderRequests = [
        "louder", "speak up", "can't hear you", "cannot hear you", "can not hear you", "hard to hear", "mas alto",
        "no le oigo", "no te oigo", "no se oye", "no le escucho bien", "hable mas fuerte", "mas fuerte",
    ]
    /// The most the agent's voice is raised for a caller who cannot hear it.
    static let maximumGainDecibels = 12.0

    /// `audio` raised by ``outboundGainDecibels`` (clipped at full scale), or as it is.
    func amplified(_ audio: [UInt8]) -> [UInt8] {
        guard outboundGainDecibels > 0 else { return audio }
        let gain = Decibels.amplitude(outboundGainDecibels)
        return audio.map { MuLaw.encode(Int16(clamping: Int((Double(MuLaw.decode($0)) * gain).rounded()))) }
    }
}
