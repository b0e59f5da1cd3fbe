import AudioIO
import Foundation
import LocalStore
public import Logging
public import Sync
import Tracing

/// One live call: owns all of its state (what the caller is saying, what the agent is saying and
/// what the caller has heard of it) and turns Media Stream messages into conversation.
///
/// Inbound frames go through voice activity detection into the speech recognizer; at the end of an
/// utterance a turn runs in its own task (recognition, the model, tools, speech), so the session keeps
/// listening while it thinks and speaks. When the caller starts talking over the agent, the session
/// sends `clear`, cancels the turn, and records what was not heard (barge-in).
public actor CallSession {
    typealias PendingPiece = TurnLedger.PendingPiece
    typealias OpenTurn = TurnLedger.OpenTurn

    /// How the call is being handled.
    enum Mode: Equatable {
        /// Speech in, the model, speech out.
        case conversation
        /// The keypad flow: speech understanding is unavailable, or the caller chose keys.
        case keypad
    }

    public let call: Call
    let streamSid: String
    let services: CallServices
    let send: @Sendable (MediaStreamOutbound) async -> Void
    let hangUp: @Sendable () async -> Void
    var logger: Logger

    var language: String
    var history: [ChatMessage] = []
    var customer: Customer?
    /// Cleans the caller's audio and finds their speech (see ``CallerListener``).
    let listener: CallerListener
    var recentFrames: [[UInt8]] = []
    var recognition: (any UtteranceRecognition)?
    var turnTask: Task<Void, Never>?
    /// The turn being generated, if any.
    var generatingTurnID: String?
    /// The agent's turns under way and the speech at Twilio not yet heard (see ``TurnLedger``).
    var turns = TurnLedger()
    var markCounter = 0
    var turnSequence = 0
    var pacer: OutboundPacer<ContinuousClock>!
    var pacerTask: Task<Void, Never>?
    var endAfterPlayback = false
    var ended = false
    var outcomes: [String] = []
    var callerTurns = 0
    /// Times the caller was carried by a fallback: a hold line while an upstream was late, a move to
    /// the keypad. Stored with the call (`call_metrics.fallbacks`) for the staff's list of calls.
    var fallbacks = 0
    var responseLatencies: [Double] = []
    var worstLateness: Duration = .zero
    var lateFrames = 0
    private let records: AsyncStream<CallRecord>.Continuation
    private let recordStream: AsyncStream<CallRecord>
    var recordWriter: Task<Void, Never>?
    /// Names and numbers this call has learnt: sentences containing them are never cached.
    var personalData = PersonalDataFilter()
    /// Keys pressed during the conversation, gathered into one input (see ``KeypadEntry``).
    var keys = KeypadEntry(clock: ContinuousClock())
    var mode = Mode.conversation
    var keypad: KeypadFlow
    /// When the call last moved to the keypad flow.
    var offlineSince: Date?
    /// The caller's audio while they leave a message on the keypad flow.
    var messageAudio: [UInt8]?
    /// Ends the caller's message after silence (see ``hearMessage(_:)``).
    var messageEnd = Countdown(clock: ContinuousClock())
    /// The caller spoke but speech-to-text would not start.
    var recognitionUnavailable = false
    /// The call's recording, once it has started (after the notice has been heard).
    var recording: RecordingTap?
    /// The mark of the recording notice: recording starts when it has been played.
    var recordingStartMark: String?
    /// When the stream started, for the caller's timestamps.
    let streamStart = ContinuousClock.now
    /// Watches the silence after the caller stops speaking (see ``startSilenceWatchdog(turnID:endOfSpeech:giveUp:)``).
    var watchdog: SilenceWatchdog<ContinuousClock>
    /// How frustrated the caller sounds (see ``CallerMood``).
    var mood = CallerMood()
    /// The caller talked over the agent since their last turn was read.
    var interruptedSinceLastReading = false
    /// Offers of a person or a call-back made, and requests for a person heard (at most one per call).
    var escalations = 0
    /// How many times the caller asked for a slower voice; ``delivery`` makes it calmer as well while
    /// they are strained.
    var slowerRequested = 0
    /// Speed goes down to ElevenLabs' 0.7 at most in three steps from the usual 1.
    static let maximumSlowerSteps = 3
    /// How much (dB) the agent's voice is raised because the caller could not hear it.
    var outboundGainDecibels = 0.0
    /// Marks Twilio gave back while the listener was deciding whether a sound was the caller.
    var heldMarks: [String] = []
    /// A tool of the turn under way may have queued a text confirmation.
    var textQueuedThisTurn = false
    /// The caller was asked to press 1 for a text confirmation.
    var awaitingTextConsent = false
    /// Answered turns traced so far (the next one's `turn.index` is one more).
    var tracedTurnCount = 0
    /// The `call.turn` span context of each traced turn, for a tool that finishes after its turn was
    /// cut off (one entry per answered turn of this call).
    var tracedTurns: [String: InstrumentationContext] = [:]

    /// Frames of audio kept, so the recognizer hears an utterance from its first syllable even when
    /// it counted only once it had gone on over the agent for a while.
    static let preRollFrames = 40
    /// Frames sent to the recognizer from before the onset itself.
    static let leadInFrames = 10
    /// Characters of conversation sent to the model at most (the system prompt aside).
    static let historyBudget = 12_000

    public init(
        call: Call, streamSid: String, services: CallServices, logger: Logger,
        send: @escaping @Sendable (MediaStreamOutbound) async -> Void, hangUp: @escaping @Sendable () async -> Void
    ) {
        self.call = call
        self.streamSid = streamSid
        self.services = services
        self.send = send
        self.hangUp = hangUp
        var logger = logger
        logger[metadataKey: "call.id"] = .string(call.id)
        logger[metadataKey: "call.sid"] = .string(call.callSid)
        self.logger = logger
        self.language = "en"
        listener = CallerListener(settings: services.listening)
        if let failure = listener.cleaningFailure {
            logger.error("caller audio is not cleaned", metadata: ["error": "\(failure)"])
        }
        let zone = services.policy.timeZone
        keypad = KeypadFlow(
            today: { LocalDate(Date(), in: zone) }, maxPartySize: services.policy.maxPartySize)
        (recordStream, records) = AsyncStream.makeStream(of: CallRecord.self)
        watchdog = SilenceWatchdog(clock: ContinuousClock(), timing: .init(budget: services.silenceBudget))
    }

    /// Starts the outbound pacer and greets the caller (by name when they are known).
    public func begin() async {
        let calls = services.calls
        let logger = self.logger
        let rows = recordStream
        recordWriter = Task {
            for await record in rows {
                do {
                    switch record {
                    case .turn(let turn): try await calls.append(turn)
                    case .toolExecution(let execution): try await calls.record(execution)
                    }
                } catch {
                    logger.error("call record not stored", metadata: ["error": "\(error)"])
                }
            }
        }
        let send = self.send
        pacer = OutboundPacer(clock: ContinuousClock()) { [weak self] item, lateness in
            switch item {
            case .frame(let frame): await send(.media(frame.bytes))
            case .mark(let name): await send(.mark(name: name))
            }
            if case .frame(let frame) = item { await self?.frameSent(frame.bytes, lateness: lateness) }
        }
        let pacer = self.pacer!
        pacerTask = Task(priority: .high) { await pacer.run() }

        customer = try? await services.customers.customer(phone: call.fromNumber)
        language = customer?.preferredLanguage ?? "en"
        personalData.add(call.fromNumber)
        if let name = customer?.name { personalData.add(name) }
        let values = ["restaurant": services.restaurantName, "name": customer?.name ?? ""]
        let greeting = services.phrases.text(
            customer?.name == nil ? .greeting : .greetingReturning, language: language, values)
        history.append(.assistant(greeting))
        turnTask = Task { await self.speakGreeting(greeting) }
    }

    func speakGreeting(_ text: String) async {
        let id = UUID().uuidString.lowercased()
        turns.open[id] = OpenTurn(id: id)
        generatingTurnID = id
        if let recordings = services.recordings {
            if recordings.noticeRequired {
                // Consent first: recording starts once the notice has been played to the caller.
                await speak(line(.recordingNotice), turnID: id)
                recordingStartMark = turns.pending.last?.mark
            } else {
                await startRecording()
            }
        }
        await speak(utterance(text), turnID: id)
        prepareUrgentLines()
        await finishGenerating(id)
    }

    /// The lines said while the caller waits are made ready in the local voice, the call's language
    /// first, once the greeting is on its way: when the cloud fails, they play without a synthesis.
    func prepareUrgentLines() {
        let languages = [language] + PhraseBook.languages.filter { $0 != language }
        let lines = languages.flatMap { language in
            [PhraseBook.Key.hold, .offlineNotice, .keypadMenu].map { key in
                Utterance(self.services.phrases.text(key, language: language), language: language, pinned: true)
            }
        }
        let speech = services.speech
        Task(priority: .low) { await speech.prepareLocalVoice(lines) }
    }

    /// Handles one inbound message, in the order Twilio sent them.
    public func receive(_ message: MediaStreamInbound) async {
        switch message {
        case .media(let media):
            let frames = MuLawFrame.frames(from: media.payload)
            if let recording {
                for (index, frame) in frames.enumerated() {
                    recording.caller(frame.bytes, streamMilliseconds: media.timestamp + index * 20)
                }
            }
            await hear(frames)
        case .dtmf(let digit):
            await pressed(digit)
        case .mark(let name):
            // The audio before the mark has played, whoever hears it (see ``callerInterrupts()``).
            await pacer.played(name)
            // While a sound over the agent may yet be the caller interrupting, what plays is not yet
            // known to be heard: its marks wait for the listener's decision.
            if listener.isHoldingOnset {
                heldMarks.append(name)
            } else {
                await markPlayed(name)
            }
        case .stop:
            await end(reason: "stream stopped")
        case .connected, .start, .unknown:
            break
        }
    }

    func hear(_ frames: [MuLawFrame]) async {
        for frame in frames {
            if messageAudio != nil {
                await hearMessage(frame.bytes)
                continue
            }
            // The detector hears the line cleaned of the agent's echo; the recognizer hears it as it
            // came (cloud recognizers do their own cleaning, and do it better than a filter in front).
            let event = listener.listen(frame.bytes, agentSpeaking: isAgentBusy).event
            recentFrames.append(frame.bytes)
            if recentFrames.count > Self.preRollFrames { recentFrames.removeFirst() }
            if let recognition { await recognition.send(frame.bytes) }
            switch event {
            case .started(let framesAgo):
                await callerStartedSpeaking(leadIn: framesAgo + Self.leadInFrames)
            case .ended:
                callerFinishedSpeaking()
            case .noise:
                await callerNoiseEnded()
            case .ignored:
                services.metrics.ignoredSounds.increment()
            case nil:
                break
            }
            if !heldMarks.isEmpty && !listener.isHoldingOnset {
                // An interruption already took the pieces as unheard; a sound that was not one lets
                // them count as heard.
                let marks = heldMarks
                heldMarks.removeAll()
                for mark in marks { await markPlayed(mark) }
            }
        }
    }

    /// Keypad digits are input too: they gather until `#` or a pause, then go to the agent as a turn.
    func pressed(_ digit: String) async {
        if isAgentBusy { await callerInterrupts() }
        if await answerTextConsent(digit) { return }
        if mode == .keypad || digit == "*" {
            await pressedOnKeypad(digit)
            return
        }
        if let digits = keys.press(digit, paused: { [weak self] in await self?.keysPaused() }) {
            answerDigits(digits)
        }
    }

    /// No key followed the last within the pause: the digits so far are the input (unless a key came
    /// in the meantime and cancelled this wait).
    func keysPaused() {
        guard !Task.isCancelled, let digits = keys.take() else { return }
        answerDigits(digits)
    }

    func answerDigits(_ digits: String) {
        answerAfterCurrentTurn(services.phrases.text(.keypadInput, language: language, ["digits": digits]))
    }

    /// Answers `text` (words the caller did not speak just now: keys pressed, or words carried over)
    /// as a new turn, once the turn under way has finished.
    ///
    /// - Parameter carried: whether words carried from an earlier turn are put in front of `text`.
    func answerAfterCurrentTurn(
        _ text: String, carried: Bool = true, evenIfCancelled: Bool = false, spoken: Bool = false
    ) {
        let now = Date()
        let id = UUID().uuidString.lowercased()
        turns.open[id] = OpenTurn(id: id, endOfSpeechAt: now)
        let previous = turnTask
        startTurnTask(id) {
            await previous?.value
            guard evenIfCancelled || !Task.isCancelled else { return }
            await self.answer(
                Transcript(text: text, language: self.language), turnID: id, endOfSpeechAt: now, transcriptAt: now,
                carried: carried, spoken: spoken)
        }
    }

    /// Runs `work` as the task of turn `id`, the call's latest.
    func startTurnTask(_ id: String, _ work: @escaping @Sendable () async -> Void) {
        let task = Task { await work() }
        turns.open[id]?.task = task
        turnTask = task
    }

    /// Keeps the conversation within ``historyBudget`` characters.
    func trimHistory() {
        history = ConversationHistory.trimmed(history, budget: Self.historyBudget)
    }

    /// - Parameter leadIn: how many of the latest frames the recognizer hears first.
    func callerStartedSpeaking(leadIn: Int) async {
        if mode == .keypad {
            guard canLeaveKeypad() else { return }
            logger.info("speech understanding is back; leaving the keypad flow")
            mode = .conversation
        }
        await callerInterrupts()
        recognitionUnavailable = false
        await recognition?.cancel()
        recognition = nil
        do {
            let recognition = try await services.recognizer.startUtterance(languageHint: language)
            for frame in recentFrames.suffix(leadIn) { await recognition.send(frame) }
            self.recognition = recognition
        } catch {
            logger.error("speech recognition unavailable", metadata: ["error": "\(error)"])
            recognitionUnavailable = true
        }
    }

    func callerFinishedSpeaking() {
        let endOfSpeech = Date().addingTimeInterval(-listener.currentEndSilence.seconds)
        guard let recognition else {
            if recognitionUnavailable {
                // Nobody can understand the caller: the keypad flow answers instead of silence.
                recognitionUnavailable = false
                turnTask = Task {
                    await self.offlineTurn(reason: "speech-to-text unavailable", endOfSpeechAt: endOfSpeech)
                }
            } else if mode == .keypad, messageAudio == nil, !isAgentBusy {
                turnTask = Task { await self.keypadTurn([.menu], endOfSpeechAt: endOfSpeech) }
            }
            return
        }
        self.recognition = nil
        let id = UUID().uuidString.lowercased()
        turns.open[id] = OpenTurn(id: id, endOfSpeechAt: endOfSpeech, awaitingTranscript: true)
        let previous = turnTask
        startTurnTask(id) {
            await self.runTurn(id, recognition: recognition, endOfSpeechAt: endOfSpeech, after: previous)
        }
    }

    /// What the detector took for speech was too short to be words (a cough, a click): whatever was
    /// put on hold for it goes on.
    func callerNoiseEnded() async {
        await recognition?.cancel()
        recognition = nil
        for turn in turns.open.values where turn.superseded {
            turns.open[turn.id]?.superseded = false
        }
        guard let carried = turns.carriedCallerText, !turns.open.values.contains(where: \.awaitingTranscript) else {
            return
        }
        // The answer that was cut off for the noise is asked again, with the same words.
        turns.carriedCallerText = nil
        // Words already taken from the caller are answered even if the turn before is cancelled.
        answerAfterCurrentTurn(carried, carried: false, evenIfCancelled: true)
    }

    /// Whether the agent is speaking, or about to.
    var isAgentBusy: Bool {
        !turns.pending.isEmpty || generatingTurnID != nil
    }

    /// The caller speaks (or presses a key) while the agent has something under way. Audio still to
    /// be heard is stopped within a frame (`clear` only when Twilio holds some: a caller who speaks after
    /// the last mark of an answer has heard it all, and that is a new turn, not a barge-in).
    ///
    /// Each turn under way is then, by what the caller heard of it and what it did:
    /// - still waiting for its transcript: it is not cancelled; its words join the next turn's;
    /// - nothing of its answer heard, and no tool asked to change data: folded into the next turn, which
    ///   answers both sets of words, and its messages leave the history;
    /// - otherwise interrupted: cancelled (a tool already running finishes), its tool calls and
    ///   results stay in the history, and a note tells the model what the caller did not hear.
    func callerInterrupts() async {
        watchdog.cancel()
        let interruptions = turns.interrupt()
        // The turns stop first, so none queues more audio while the pacer and Twilio are cleared.
        for interruption in interruptions {
            interruption.turn.task?.cancel()
            if generatingTurnID == interruption.turn.id { generatingTurnID = nil }
        }
        // Twilio holds audio iff frames left after the last one whose mark came back: an interruption
        // counted after 300 ms of speech often comes in a pause between pieces, or after the answer
        // played out while the caller talked (that audio is still not heard: its marks were held),
        // and then there is nothing at Twilio to clear.
        if await pacer.clear().farEndHoldsAudio {
            await send(.clear)
        }
        for interruption in interruptions {
            let turn = interruption.turn
            logger.info("barge-in", metadata: ["call.turn": .string(turn.id)])
            if interruption.folded { removeFromHistory(turn) }
            let unheard = interruption.unheardPieces.joined(separator: " ")
            await recordAgentTurn(turn, interrupted: true, unheard: unheard.isEmpty ? nil : unheard)
        }
        if !interruptions.isEmpty {
            services.metrics.bargeIns.increment()
            interruptedSinceLastReading = true
        }
    }

    /// Takes a folded turn's caller message, and whatever it added after it, out of the history.
    private func removeFromHistory(_ turn: OpenTurn) {
        guard let callerText = turn.callerText else { return }
        let index: Int? =
            if let index = turn.historyIndex, index < history.count, history[index] == .user(callerText) {
                index
            } else {
                history.lastIndex(of: .user(callerText))
            }
        guard let index else { return }
        // Only read-only tools can have run in a folded turn; their messages go with it.
        history.removeSubrange(index...)
    }

    /// One turn: what the caller said, then the agent's answer. The turn before it ends first (folded
    /// into this one, interrupted, or done), so its messages are in the history before this one asks.
    func runTurn(
        _ id: String, recognition: any UtteranceRecognition, endOfSpeechAt: Date, after previous: Task<Void, Never>?
    ) async {
        startSilenceWatchdog(turnID: id, endOfSpeech: endOfSpeechAt)
        let transcript: Transcript
        do {
            transcript = try await recognition.finish()
        } catch {
            await previous?.value
            // Cancelled: whoever cancelled the turn (a barge-in, the watchdog giving up, the hang-up) has it now.
            guard !Task.isCancelled, !ended else { return }
            if turns.open[id]?.superseded == true {
                await dropSilentTurn(id)
                return
            }
            logger.error("speech recognition failed", metadata: ["error": "\(error)"])
            turns.open[id]?.awaitingTranscript = false
            await enterKeypad(reason: "speech-to-text failed", turnID: id)
            await finishGenerating(id)
            return
        }
        let transcriptAt = Date()
        await previous?.value
        guard !Task.isCancelled, !ended else { return }
        turns.open[id]?.awaitingTranscript = false
        if turns.open[id]?.superseded == true {
            // The caller went on talking: these words are answered with the next ones.
            if !transcript.text.isEmpty {
                await persistCallerTurn(transcript.text, endOfSpeechAt: endOfSpeechAt, transcriptAt: transcriptAt)
                turns.carry(transcript.text)
            }
            await dropSilentTurn(id)
            return
        }
        await answer(transcript, turnID: id, endOfSpeechAt: endOfSpeechAt, transcriptAt: transcriptAt)
    }

    /// Ends a turn that will say nothing more (its hold line, if any, is heard or was cleared).
    private func dropSilentTurn(_ id: String) async {
        guard let turn = turns.open[id] else { return }
        if turn.audioQueued {
            await finishGenerating(id)
        } else {
            turns.open[id] = nil
        }
    }

    /// Stores what the caller said as a row of the call's log.
    private func persistCallerTurn(
        _ text: String, endOfSpeechAt: Date, transcriptAt: Date, frustration: Double? = nil
    ) async {
        callerTurns += 1
        turnSequence += 1
        let callerTurn = ConversationTurn(
            id: UUID().uuidString.lowercased(), callID: call.id, sequence: turnSequence, speaker: .caller,
            text: text, language: language, startedAt: endOfSpeechAt.unixMilliseconds,
            endOfSpeechAt: endOfSpeechAt.unixMilliseconds, transcriptFinalAt: transcriptAt.unixMilliseconds,
            frustration: frustration.map { ($0 * 1000).rounded() / 1000 })
        await persist(callerTurn)
    }

    /// Records what the caller said and runs the agent's answer to it, as turn `turnID`.
    /// - Parameters:
    ///   - carried: whether words of an answer cut off before it was heard join these.
    ///   - spoken: whether `transcript` is words the caller just said (not keys, not words carried
    ///     over), so that how they sound is read.
    func answer(
        _ transcript: Transcript, turnID: String, endOfSpeechAt: Date, transcriptAt: Date, carried: Bool = true,
        spoken: Bool = true
    ) async {
        let callerText =
            ([carried ? turns.carriedCallerText : nil, transcript.text].compactMap { $0 }.filter {
                !$0.isEmpty
            }).joined(separator: " ")
        if carried { turns.carriedCallerText = nil }
        guard !callerText.isEmpty else {
            watchdog.cancel(ifWatching: turnID)
            if turnTask == turns.open[turnID]?.task { turnTask = nil }
            await dropSilentTurn(turnID)
            return
        }
        if let detected = transcript.language ?? LanguageDetector.detect(transcript.text), detected != language {
            logger.info("caller language", metadata: ["call.language": .string(detected)])
            language = detected
        }
        if spoken && !transcript.text.isEmpty { listener.lastUtteranceWasWords() }
        let reading = spoken && !transcript.text.isEmpty ? readMood(transcript.text) : nil
        if carried && !transcript.text.isEmpty {
            await persistCallerTurn(
                transcript.text, endOfSpeechAt: endOfSpeechAt, transcriptAt: transcriptAt, frustration: reading?.score)
        }
        history += turns.interruptionNotes
        turns.interruptionNotes.removeAll()
        history.append(.user(callerText))
        if let reading {
            followVoiceRequests(in: transcript.text)
            noteEscalation(reading)
            if let note = moodNote(reading) { history.append(note) }
        }
        trimHistory()

        if turns.open[turnID] == nil { turns.open[turnID] = OpenTurn(id: turnID, endOfSpeechAt: endOfSpeechAt) }
        turns.open[turnID]?.callerText = callerText
        turns.open[turnID]?.transcriptFinalAt = transcriptAt
        turns.open[turnID]?.historyIndex = history.count - 1
        generatingTurnID = turnID
        if watchdog.turnID != turnID { startSilenceWatchdog(turnID: turnID, endOfSpeech: endOfSpeechAt) }
        if let reading, offersEscalation(reading) {
            await offerEscalation(turnID: turnID)
            guard !Task.isCancelled else { return }
            watchdog.cancel(ifWatching: turnID)
            if turnTask == turns.open[turnID]?.task { turnTask = nil }
            await finishGenerating(turnID)
            return
        }
        let context = ToolContext(
            callID: call.id, callerPhone: call.fromNumber, callSid: call.callSid, language: language)
        do {
            let (reply, _) = try await services.engine.respond(
                to: [.system(systemPrompt())] + history, context: context, turnID: turnID,
                record: { [weak self] execution in await self?.recordToolExecution(execution) },
                remember: { [weak self] messages in await self?.remember(messages, turnID: turnID) },
                speak: { [weak self] piece in await self?.speak(piece, turnID: turnID) })
            try Task.checkCancellation()
            turns.open[turnID]?.firstTokenAt = reply.firstTokenAt
            if reply.endCall { endAfterPlayback = true }
        } catch is CancellationError {
            return  // Barge-in: callerInterrupts() recorded the turn.
        } catch {
            logger.error("the agent could not answer", metadata: ["error": "\(error)"])
            if !Task.isCancelled { await enterKeypad(reason: "the language model failed", turnID: turnID) }
        }
        guard !Task.isCancelled else { return }
        await askForTextConsent(turnID: turnID)
        watchdog.cancel(ifWatching: turnID)
        if turnTask == turns.open[turnID]?.task { turnTask = nil }
        await finishGenerating(turnID)
    }

    /// Messages of turn `turnID` for the history, as the model produced them: a tool call and its
    /// result are kept even when the caller interrupts the turn afterwards.
    func remember(_ messages: [ChatMessage], turnID: String) {
        if let kept = turns.remember(messages, turnID: turnID) { history += kept }
    }

    /// The turn has said everything it will say; its row is written once the caller has heard it.
    func finishGenerating(_ turnID: String) async {
        if generatingTurnID == turnID { generatingTurnID = nil }
        turns.open[turnID]?.finishedGenerating = true
        await closeTurnIfHeard(turnID)
        await hangUpIfDone()
    }

    func closeTurnIfHeard(_ turnID: String) async {
        guard let turn = turns.closeIfHeard(turnID) else { return }
        await recordAgentTurn(turn, interrupted: false, unheard: nil)
    }

    /// A phrase book line in the caller's language, from the cache when it is there.
    func line(_ key: PhraseBook.Key, _ values: [String: String] = [:]) -> Utterance {
        let text = services.phrases.text(key, language: language, values)
        var utterance = Utterance(
            text, language: language, cacheable: values.isEmpty || personalData.allowsCaching(text),
            pinned: values.isEmpty)
        utterance.delivery = delivery
        return utterance
    }

    /// Text of this call in its language, cached unless it may hold personal data.
    func utterance(_ text: String) -> Utterance {
        var utterance = Utterance(text, language: language, cacheable: personalData.allowsCaching(text))
        utterance.delivery = delivery
        return utterance
    }

    /// The model's words.
    func speak(_ text: String, turnID: String) async {
        await speak(utterance(text), turnID: turnID)
    }

    /// Names and phone numbers given to tools are personal: sentences with them are not cached.
    func recordToolExecution(_ execution: ToolExecution) {
        if let object = try? JSONSerialization.jsonObject(with: Data(execution.arguments.utf8)) as? [String: Any] {
            for key in ["name", "phone", "callback_phone"] {
                if let value = object[key] as? String { personalData.add(value) }
            }
        }
        // What the tool did counts for the call's outcome even if the turn was interrupted after it.
        if execution.status == .ok {
            outcomes.append(execution.tool)
            toolMayHaveQueuedText(execution.tool)
        } else {
            mood.toolFailed()
        }
        traceToolRun(execution)
        queue(.toolExecution(execution))
    }

    /// Synthesises `utterance`, queues its frames as they arrive, then a mark to learn when it was heard.
    /// A `hold` line (said while the answer is late) does not count as the answer having started.
    func speak(_ utterance: Utterance, turnID: String, hold: Bool = false) async {
        guard !Task.isCancelled, !ended else { return }
        let text = utterance.text
        markCounter += 1
        let mark = "m\(markCounter)"
        // Pending from before its first frame: a barge-in while it streams counts it as not heard. A
        // piece that never gets its mark (synthesis failed) leaves again: nothing will confirm it.
        turns.pending.append(PendingPiece(mark: mark, text: text, turnID: turnID, hold: hold))
        var markQueued = false
        defer { if !markQueued { turns.pending.removeAll { $0.mark == mark } } }
        var leftover: [UInt8] = []
        do {
            for try await chunk in services.speech.speak(utterance) {
                if Task.isCancelled { return }
                if turns.open[turnID]?.firstAudioAt == nil { turns.open[turnID]?.firstAudioAt = Date() }
                leftover += amplified(chunk)
                let whole = leftover.count / TelephoneAudio.samplesPerFrame * TelephoneAudio.samplesPerFrame
                if whole > 0 {
                    queued(turnID, hold: hold)
                    await pacer.enqueue(MuLawFrame.frames(from: Array(leftover[..<whole])))
                    leftover.removeFirst(whole)
                }
            }
        } catch {
            logger.error("speech synthesis failed", metadata: ["error": "\(error)"])
            return
        }
        guard !Task.isCancelled else { return }
        if !leftover.isEmpty {
            queued(turnID, hold: hold)
            await pacer.enqueue(MuLawFrame.frames(from: leftover))
        }
        markQueued = true
        await pacer.enqueueMark(mark)
    }

    private func queued(_ turnID: String, hold: Bool) {
        turns.queued(turnID, hold: hold)
    }

    func markPlayed(_ name: String) async {
        if name == recordingStartMark {
            recordingStartMark = nil
            await startRecording()
        }
        guard let piece = turns.played(name) else { return }
        if let turnID = piece.turnID { await closeTurnIfHeard(turnID) }
        await hangUpIfDone()
    }

    func hangUpIfDone() async {
        guard endAfterPlayback, !ended, turns.pending.isEmpty, generatingTurnID == nil, await pacer.queuedFrames == 0
        else {
            return
        }
        logger.info("ending the call after the goodbye")
        await hangUp()
    }

    func frameSent(_ bytes: [UInt8], lateness: Duration) {
        listener.agentPlayed(bytes)
        recording?.agent(bytes, at: .now)
        // The first frame of the oldest turn still waiting for one.
        if let turn = turns.open.values.filter({ $0.firstFrameAt == nil && $0.firstAudioAt != nil })
            .min(by: { ($0.firstAudioAt ?? .distantFuture) < ($1.firstAudioAt ?? .distantFuture) })
        {
            turns.open[turn.id]?.firstFrameAt = Date()
            if let end = turn.endOfSpeechAt {
                let latency = Date().timeIntervalSince(end)
                responseLatencies.append(latency)
                services.metrics.turnResponse.recordNanoseconds(Int64(latency * 1e9))
            }
        }
        worstLateness = max(worstLateness, lateness)
        if lateness > .milliseconds(20) { lateFrames += 1 }
        services.metrics.frameLateness.recordNanoseconds(Int64(lateness.seconds * 1e9))
    }

    func recordAgentTurn(_ timing: OpenTurn, interrupted: Bool, unheard: String?) async {
        turnSequence += 1
        let turn = ConversationTurn(
            id: timing.id, callID: call.id, sequence: turnSequence, speaker: .agent,
            text: timing.heard.joined(separator: " "), language: language,
            startedAt: (timing.transcriptFinalAt ?? timing.firstAudioAt ?? Date()).unixMilliseconds,
            endOfSpeechAt: timing.endOfSpeechAt?.unixMilliseconds,
            transcriptFinalAt: timing.transcriptFinalAt?.unixMilliseconds,
            firstTokenAt: timing.firstTokenAt?.unixMilliseconds, firstAudioAt: timing.firstAudioAt?.unixMilliseconds,
            firstFrameAt: timing.firstFrameAt?.unixMilliseconds, interrupted: interrupted, unheardText: unheard)
        recordStages(timing)
        traceTurn(timing, interrupted: interrupted)
        await persist(turn)
    }

    /// Each stage of the turn that both began and ended, into `edge_turn_stage_seconds{stage}`.
    func recordStages(_ timing: OpenTurn) {
        let marks = [timing.endOfSpeechAt, timing.transcriptFinalAt, timing.firstTokenAt, timing.firstAudioAt]
        let ends = [timing.transcriptFinalAt, timing.firstTokenAt, timing.firstAudioAt, timing.firstFrameAt]
        for (stage, (start, end)) in zip(AgentMetrics.turnStages, zip(marks, ends)) {
            guard let start, let end, end >= start else { continue }
            services.metrics.turnStage(stage).recordNanoseconds(Int64(end.timeIntervalSince(start) * 1e9))
        }
    }

    /// Queues a turn row for the call's writer, so no database commit sits between the caller and
    /// the answer; ``end(reason:)`` waits until every queued row is stored.
    func persist(_ turn: ConversationTurn) async {
        records.yield(.turn(turn))
    }

    func queue(_ record: CallRecord) {
        records.yield(record)
    }

    /// A row the call's writer stores in order.
    enum CallRecord: Sendable {
        case turn(ConversationTurn)
        case toolExecution(ToolExecution)
    }

    func systemPrompt() -> String {
        let zone = services.policy.timeZone
        let now = Date()
        let callerContext: String
        if let name = customer?.name {
            callerContext = services.phrases.text(
                .callerKnown, language: language,
                ["name": name, "party_size": customer?.usualPartySize.map(String.init) ?? "?"])
        } else {
            callerContext = services.phrases.text(.callerUnknown, language: language)
        }
        let formatter = DateFormatter()
        formatter.timeZone = zone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEEE yyyy-MM-dd"
        let today = formatter.string(from: now)
        formatter.dateFormat = "HH:mm"
        return services.phrases.text(
            .systemPrompt, language: language,
            [
                "restaurant": services.restaurantName, "today": today, "now": formatter.string(from: now),
                "time_zone": zone.identifier, "caller_context": callerContext,
            ])
    }

    /// The call is over: stop everything, and record how it went.
    public func end(reason: String) async {
        guard !ended else { return }
        ended = true
        turnTask?.cancel()
        keys.cancel()
        watchdog.cancel()
        messageEnd.cancel()
        // The caller hung up: whatever was still to be heard of open turns never was.
        for turn in turns.open.values {
            let unheard = turns.pending.filter { $0.turnID == turn.id }.map(\.text).joined(separator: " ")
            await recordAgentTurn(turn, interrupted: !unheard.isEmpty, unheard: unheard.isEmpty ? nil : unheard)
        }
        turns.open.removeAll()
        turns.pending.removeAll()
        await recognition?.cancel()
        recognition = nil
        await pacer?.clear()
        await pacer?.finish()
        pacerTask?.cancel()
        logger.info("call ended", metadata: ["call.end_reason": .string(reason)])
        services.metrics.calls(outcome: outcome).increment()
        records.finish()
        await recordWriter?.value
        await finishRecording()
        await dropUnconsentedTexts()
        do {
            try await services.calls.recordConversation(callID: call.id, language: language, outcome: outcome)
            try await services.customers.rememberAfterCall(phone: call.fromNumber, language: language)
            let now = Date().unixMilliseconds
            var metrics = [
                CallMetric(
                    id: UUID().uuidString.lowercased(), callID: call.id, name: "caller_turns",
                    value: Double(callerTurns), recordedAt: now),
                CallMetric(
                    id: UUID().uuidString.lowercased(), callID: call.id, name: "worst_frame_lateness_ms",
                    value: worstLateness.seconds * 1000, recordedAt: now),
                CallMetric(
                    id: UUID().uuidString.lowercased(), callID: call.id, name: "late_frames",
                    value: Double(lateFrames), recordedAt: now),
                CallMetric(
                    id: UUID().uuidString.lowercased(), callID: call.id, name: "fallbacks",
                    value: Double(fallbacks), recordedAt: now),
                CallMetric(
                    id: UUID().uuidString.lowercased(), callID: call.id, name: "escalations",
                    value: Double(escalations), recordedAt: now),
                CallMetric(
                    id: UUID().uuidString.lowercased(), callID: call.id, name: "peak_frustration",
                    value: (mood.peak * 1000).rounded() / 1000, recordedAt: now),
            ]
            if !responseLatencies.isEmpty {
                metrics.append(
                    CallMetric(
                        id: UUID().uuidString.lowercased(), callID: call.id, name: "mean_response_latency_ms",
                        value: responseLatencies.reduce(0, +) / Double(responseLatencies.count) * 1000, recordedAt: now)
                )
            }
            try await services.calls.record(metrics)
            try await services.calls.rollUpDay(containing: call.startedAt, timeZone: services.policy.timeZone)
        } catch {
            logger.error("call summary not recorded", metadata: ["error": "\(error)"])
        }
        services.events.yield(.ended(callID: call.id))
    }

    /// What the call achieved, from the tools that succeeded.
    var outcome: String {
        if outcomes.contains("transfer_to_staff") { return "transferred" }
        if outcomes.contains("create_reservation") { return "reservation_created" }
        if outcomes.contains("update_reservation") { return "reservation_changed" }
        if outcomes.contains("cancel_reservation") { return "reservation_cancelled" }
        if outcomes.contains("take_message") { return "message_taken" }
        return callerTurns == 0 ? "no_conversation" : "information"
    }
}
