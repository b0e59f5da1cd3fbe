import AudioIO
import Foundation
import LocalStore
import Resilience
import Sync

/// The call when the cloud is not there: the silence watchdog that keeps a caller from waiting in
/// silence, and the keypad flow that still books a table, tells the hours and takes a message.
extension CallSession {
    // MARK: Silence watchdog

    /// Starts the ``SilenceWatchdog`` on `turnID`, whose caller stopped speaking at `endOfSpeech`.
    /// With `giveUp`, a turn that has still said nothing after the budget moves the call to the keypad
    /// flow; keypad turns are never abandoned (one may be writing a booking).
    func startSilenceWatchdog(turnID: String, endOfSpeech: Date, giveUp: Bool = true) {
        let elapsed = Duration.milliseconds(Int64(max(0, -endOfSpeech.timeIntervalSinceNow) * 1000))
        watchdog.watch(
            turnID: turnID, sinceEndOfSpeech: elapsed, giveUp: giveUp,
            .init(
                holdIfSilent: { [weak self] in await self?.holdIfSilent(turnID) ?? false },
                giveUpIfWaiting: { [weak self] in await self?.giveUpIfWaiting(turnID) }))
    }

    /// The answer is late: a hold line from the cache (or the local voice), unless something of the
    /// turn is already queued.
    private func holdIfSilent(_ turnID: String) async -> Bool {
        guard !Task.isCancelled, let turn = turns.open[turnID], !turn.audioQueued, !ended else { return false }
        logger.warning("the answer is late; playing a hold line")
        services.metrics.holdLines.increment()
        fallbacks += 1
        await speak(urgentLine(.hold), turnID: turnID, hold: true)
        return true
    }

    private func giveUpIfWaiting(_ turnID: String) async {
        guard !Task.isCancelled, let turn = turns.open[turnID], !ended, !turn.answerQueued, !turn.finishedGenerating
        else { return }
        await giveUp(turnID)
    }

    /// The answer never came: stop waiting for it and take the caller to the keypad flow.
    private func giveUp(_ turnID: String) async {
        logger.warning("no answer in time; moving the call to the keypad")
        turns.open[turnID]?.task?.cancel()
        turns.open[turnID]?.awaitingTranscript = false
        turns.open[turnID]?.superseded = false
        turnTask?.cancel()
        await recognition?.cancel()
        recognition = nil
        let task = Task {
            await self.enterKeypad(reason: "no answer in time", turnID: turnID)
            await self.finishGenerating(turnID)
        }
        turnTask = task
    }

    /// A phrase book line spoken from the cache or the local voice, never waiting for the cloud.
    func urgentLine(_ key: PhraseBook.Key) -> Utterance {
        var utterance = line(key)
        utterance.urgent = true
        return utterance
    }

    // MARK: Entering and leaving the keypad flow

    /// Moves the call to the keypad flow, keeping what the conversation knew (language, caller,
    /// history), and says why and what the keys do.
    func enterKeypad(reason: String, turnID: String) async {
        if mode != .keypad {
            mode = .keypad
            keypad.reset()
            offlineSince = Date()
            services.metrics.keypadCalls.increment()
            fallbacks += 1
            logger.warning("moving the call to the keypad flow", metadata: ["call.offline_reason": .string(reason)])
            await speak(urgentLine(.offlineNotice), turnID: turnID)
        }
        // The cloud has just failed: these come from the cache or the local voice, not after another wait.
        await speak(urgentLine(.keypadMenu), turnID: turnID)
    }

    /// One turn that only moves the call to the keypad flow (speech-to-text would not start).
    func offlineTurn(reason: String, endOfSpeechAt: Date) async {
        let id = openTurn(endOfSpeechAt: endOfSpeechAt)
        await enterKeypad(reason: reason, turnID: id)
        await finishGenerating(id)
    }

    /// Whether speech understanding is back: the model's and speech-to-text's circuits are closed, and
    /// the call has been on the keypad long enough for it to be worth trying again.
    func canLeaveKeypad() -> Bool {
        guard messageAudio == nil, let since = offlineSince,
            Date().timeIntervalSince(since) >= services.keypadRetryAfter.seconds
        else { return false }
        return services.upstreams.map { $0.llm.state == .closed && $0.transcription.state != .open } ?? true
    }

    // MARK: Keys

    /// A key on the keypad flow (or `*`, which opens it from the conversation).
    func pressedOnKeypad(_ digit: String) async {
        if mode != .keypad {
            mode = .keypad
            keypad.reset()
            offlineSince = Date()
            logger.info("the caller chose the keypad")
        }
        let actions = keypad.press(digit)
        guard !actions.isEmpty else { return }
        let now = Date()
        // A key answers the latest key only: whatever an earlier key started and has not begun saying is dropped.
        turnTask?.cancel()
        turnTask = Task { await self.keypadTurn(actions, endOfSpeechAt: now) }
    }

    /// Runs what the keypad flow asked for, as one agent turn.
    func keypadTurn(_ actions: [KeypadFlow.Action], endOfSpeechAt: Date) async {
        guard !Task.isCancelled else { return }
        let id = openTurn(endOfSpeechAt: endOfSpeechAt)
        startSilenceWatchdog(turnID: id, endOfSpeech: endOfSpeechAt, giveUp: false)
        for action in actions {
            guard !Task.isCancelled else { return }
            await perform(action, turnID: id)
        }
        guard !Task.isCancelled else { return }
        turnTask = nil
        await finishGenerating(id)
    }

    private func openTurn(endOfSpeechAt: Date) -> String {
        let id = UUID().uuidString.lowercased()
        turns.open[id] = OpenTurn(id: id, endOfSpeechAt: endOfSpeechAt)
        generatingTurnID = id
        return id
    }

    private var catalog: PhraseCatalog? { services.catalogs[language] ?? services.catalogs["en"] }

    private var today: LocalDate { LocalDate(Date(), in: services.policy.timeZone) }

    private func perform(_ action: KeypadFlow.Action, turnID: String) async {
        switch action {
        case .say(let key):
            await speak(line(key), turnID: turnID)
        case .menu:
            await speak(line(.keypadMenu), turnID: turnID)
        case .readBack(let partySize, let date, let time):
            if let catalog {
                await speak(catalog.booking(partySize: partySize, date: date, time: time, today: today), turnID: turnID)
            }
        case .book(let partySize, let date, let time):
            await book(partySize: partySize, date: date, time: time, turnID: turnID)
        case .openingHours:
            guard let catalog else { return }
            for weekday in 1...7 {
                let periods = services.policy.openingHours[weekday] ?? []
                await speak(catalog.openingHours(isoWeekday: weekday, periods: periods), turnID: turnID)
            }
        case .startMessage:
            await speak(line(.keypadMessage), turnID: turnID)
            queued(tone: Self.messageTone)
            messageAudio = []
            // A caller who says nothing at all is not waited for long.
            messageEnd.start(Self.messageSilenceLimit * 3) { [weak self] in await self?.messageWentSilent() }
        case .endMessage:
            await takeMessage(turnID: turnID)
        case .transfer:
            await speak(line(.transferring), turnID: turnID)
            let context = ToolContext(
                callID: call.id, callerPhone: call.fromNumber, callSid: call.callSid, language: language)
            let (result, execution) = await services.engine.tools.perform(
                name: "transfer_to_staff", arguments: #"{"reason":"keypad"}"#, context: context, turnID: turnID)
            queue(.toolExecution(execution))
            if execution.status == .ok {
                outcomes.append("transfer_to_staff")
            } else {
                logger.warning("keypad transfer failed", metadata: ["tool.result": .string(result)])
                await speak(line(.apology), turnID: turnID)
                await speak(line(.keypadMenu), turnID: turnID)
            }
        case .switchLanguage:
            language = language == "es" ? "en" : "es"
            logger.info("caller language", metadata: ["call.language": .string(language)])
        }
    }

    /// Books through the same book and rules as the voice agent, marked as a keypad booking.
    private func book(partySize: Int, date: LocalDate, time: LocalTime, turnID: String) async {
        do {
            let decision = try await services.book.check(date: date, time: time, partySize: partySize)
            guard decision.isAvailable else {
                switch decision.reason {
                case .closed, .outsideOpeningHours, .tooSoon, .tooFarAhead, .nonexistentTime:
                    await speak(line(.keypadClosed), turnID: turnID)
                    await speak(line(.keypadDay), turnID: turnID)
                    keypad.askDayAgain(partySize: partySize)
                default:
                    await speak(line(.keypadUnavailable), turnID: turnID)
                    let sameDay = decision.alternatives.filter { $0.date == date }.map(\.time)
                    if !sameDay.isEmpty, let catalog { await speak(catalog.alternatives(sameDay), turnID: turnID) }
                    await speak(line(.keypadTime), turnID: turnID)
                    keypad.askTimeAgain(partySize: partySize, date: date)
                }
                return
            }
            let reservation = try await services.book.bookOnce(
                ReservationBook.Request(
                    name: customer?.name ?? "Keypad booking", phone: call.fromNumber, partySize: partySize, date: date,
                    time: time, notes: "booked on the keypad", source: .keypad, callID: call.id),
                actor: "keypad",
                confirmation: services.texts?.writer.confirmation(
                    .booked,
                    context: ToolContext(
                        callID: call.id, callerPhone: call.fromNumber, callSid: call.callSid, language: language),
                    timeZone: services.policy.timeZone)
            ).reservation
            outcomes.append("create_reservation")
            history.append(
                .system(
                    "(While speech was unavailable the caller booked on the keypad: \(partySize) people on \(date) "
                        + "at \(time), reservation \(reservation.id).)"))
            await speak(line(.keypadBooked), turnID: turnID)
            toolMayHaveQueuedText("create_reservation")
            await askForTextConsent(turnID: turnID)
        } catch {
            logger.error("keypad booking failed", metadata: ["error": "\(error)"])
            await speak(line(.apology), turnID: turnID)
            await speak(line(.keypadMenu), turnID: turnID)
        }
    }

    // MARK: Messages

    /// How long a pause ends a spoken message.
    static let messageSilenceLimit = Duration.seconds(3)
    /// The longest message kept (two minutes).
    static let messageMaximumBytes = 120 * 8000
    /// The tone before a message: 400 ms at 1 kHz.
    static let messageTone: [UInt8] = (0..<3200).map { index in
        MuLaw.encode(Int16(6000 * sin(Double(index) * 2 * .pi * 1000 / 8000)))
    }

    private func queued(tone: [UInt8]) {
        Task { await self.pacer.enqueue(MuLawFrame.frames(from: tone)) }
    }

    /// A frame of the caller's message: kept, and silence after speech ends it.
    func hearMessage(_ frame: [UInt8]) async {
        if (messageAudio?.count ?? 0) < Self.messageMaximumBytes { messageAudio?.append(contentsOf: frame) }
        switch listener.listen(frame, agentSpeaking: false).event {
        case .started:
            messageEnd.cancel()
        case .ended, .noise, .ignored:
            messageEnd.start(Self.messageSilenceLimit) { [weak self] in await self?.messageWentSilent() }
        case nil:
            break
        }
        if (messageAudio?.count ?? 0) >= Self.messageMaximumBytes { await messageEnded() }
    }

    /// The message's countdown ran out (unless the caller spoke again as it did).
    private func messageWentSilent() async {
        guard !Task.isCancelled else { return }
        await messageEnded()
    }

    private func messageEnded() async {
        let actions = keypad.messageEnded()
        guard !actions.isEmpty else { return }
        turnTask = Task { await self.keypadTurn(actions + [.menu], endOfSpeechAt: Date()) }
    }

    /// Leaves the message for the staff: its words when speech-to-text can still make them out,
    /// otherwise a note with its length and the number to call back.
    private func takeMessage(turnID: String) async {
        messageEnd.cancel()
        let audio = messageAudio ?? []
        messageAudio = nil
        let seconds = audio.count / TelephoneAudio.sampleRate
        guard seconds >= 1 else {
            await speak(line(.keypadNoMessage), turnID: turnID)
            return
        }
        var text =
            "Voice message left on the keypad (\(seconds) s) while speech understanding was unavailable; "
            + "please call back."
        if let transcript = await transcribe(audio, within: .seconds(1)), !transcript.isEmpty {
            text = "Voice message left on the keypad: \(transcript)"
        }
        let context = ToolContext(
            callID: call.id, callerPhone: call.fromNumber, callSid: call.callSid, language: language)
        let arguments =
            (try? JSONSerialization.data(withJSONObject: ["message": text, "callback_phone": call.fromNumber]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let (_, execution) = await services.engine.tools.perform(
            name: "take_message", arguments: arguments, context: context, turnID: turnID)
        queue(.toolExecution(execution))
        if execution.status == .ok {
            outcomes.append("take_message")
            await speak(line(.keypadMessageTaken), turnID: turnID)
        } else {
            await speak(line(.apology), turnID: turnID)
        }
    }

    /// The message's words, if speech-to-text answers within `limit` (the caller is waiting).
    private func transcribe(_ audio: [UInt8], within limit: Duration) async -> String? {
        guard services.upstreams.map({ $0.transcription.state == .closed }) ?? true else { return nil }
        let recognizer = services.recognizer
        let language = self.language
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                guard let recognition = try? await recognizer.startUtterance(languageHint: language) else {
                    return nil
                }
                await recognition.send(audio)
                return try? await recognition.finish().text
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

// MARK: Recording

extension CallSession {
    /// Starts recording both sides of the call. A failure to start is an alert, never the end of the call.
    func startRecording() async {
        guard let recordings = services.recordings, recording == nil, !ended else { return }
        let now = ContinuousClock.now
        let elapsed = now - streamStart
        let offset =
            Int(elapsed.components.seconds) * 1000 + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
        do {
            let (recorder, id) = try await recordings.start(callID: call.id, at: now)
            recording = RecordingTap(id: id, recorder: recorder, offsetMilliseconds: offset)
            logger.info("recording started", metadata: ["recording.id": .string(id)])
        } catch {
            recordings.metrics.recordingFailures.increment()
            logger.error("the call cannot be recorded; it goes on unrecorded", metadata: ["error": "\(error)"])
        }
    }

    /// Closes the recording and stores how it ended.
    func finishRecording() async {
        guard let recording, let recordings = services.recordings else { return }
        self.recording = nil
        let summary = await recording.finish()
        if let failure = summary.failure {
            recordings.metrics.recordingFailures.increment()
            logger.error(
                "recording stopped early; what was written is kept as partial",
                metadata: ["recording.id": .string(recording.id), "error": .string(failure)])
        }
        do {
            try await recordings.vault.finish(
                id: recording.id, complete: summary.complete, durationMilliseconds: summary.durationMilliseconds,
                sizeBytes: summary.sizeBytes, ciphertextSHA256: summary.ciphertextSHA256)
        } catch {
            logger.error("recording row not updated", metadata: ["error": "\(error)"])
        }
    }
}
