public import LocalStore
public import Logging

/// Switches a language's cloud voice when staff choose another. The phrase catalog is warmed in the
/// chosen voice in the background, beside the voice in use (whose cached phrases stay pinned); calls
/// go on in the old voice until every phrase is cached in the new one, then all switch at once. A
/// warm that fails leaves the old voice in use and says why; choosing again retries.
public actor VoiceSwitcher {
    /// Where a language's voice stands.
    public struct Status: Sendable, Equatable {
        /// The voice calls speak with now (nil: none configured).
        public var active: String?
        /// A voice being warmed, calls switch to it when it is ready.
        public var pending: String?
        /// Why the last warm did not finish.
        public var failure: String?
    }

    /// A voice staff may not choose.
    public struct UnknownVoice: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    let selection: VoiceSelection
    let store: VoiceChoiceStore
    let configured: [String: String]
    let choices: [String: [VoiceChoice]]
    /// A warmer for `language`'s catalog texts.
    let warmer: @Sendable (_ language: String) -> PhraseWarmer
    let logger: Logger
    private var pending: [String: (voice: String, task: Task<Void, Never>)] = [:]
    private var failures: [String: String] = [:]

    public init(
        selection: VoiceSelection, store: VoiceChoiceStore, configured: [String: String],
        choices: [String: [VoiceChoice]], warmer: @escaping @Sendable (_ language: String) -> PhraseWarmer,
        logger: Logger
    ) {
        self.selection = selection
        self.store = store
        self.configured = configured
        self.choices = choices
        self.warmer = warmer
        self.logger = logger
    }

    /// The voices of `language` staff may choose from.
    public func voices(for language: String) -> [VoiceChoice] {
        choices[language] ?? []
    }

    public func status(of language: String) -> Status {
        Status(
            active: selection.voice(for: language) ?? configured[language], pending: pending[language]?.voice,
            failure: failures[language])
    }

    /// Records `actor`'s choice and starts warming it (or uses it at once when it is already in use).
    public func choose(_ voice: String, for language: String, actor: String) async throws -> Status {
        guard voices(for: language).contains(where: { $0.id == voice }) else {
            throw UnknownVoice(
                description: "\(voice) is not one of the \(language) voices configured (tts.voices_\(language))")
        }
        try await store.choose(voice, for: language, actor: actor)
        switchTo(voice, for: language)
        return status(of: language)
    }

    /// Resumes the choices stored before a restart.
    public func resume() async {
        do {
            for (language, voice) in try await store.all()
            where voices(for: language).contains(where: { $0.id == voice }) {
                switchTo(voice, for: language)
            }
        } catch {
            logger.error("the voices staff chose could not be read", metadata: ["error": "\(error)"])
        }
    }

    /// Waits for the warm under way for `language`, if any (tests).
    public func settled(_ language: String) async {
        await pending[language]?.task.value
    }

    private func switchTo(_ voice: String, for language: String) {
        pending[language]?.task.cancel()
        pending[language] = nil
        failures[language] = nil
        guard voice != status(of: language).active else { return }
        let warmer = warmer(language)
        let task = Task {
            let report: PhraseWarmer.Report
            do {
                report = try await warmer.warm(voice: voice)
            } catch {
                self.finish(language, voice: voice, failure: "\(error)")
                return
            }
            self.finish(
                language, voice: voice,
                failure: report.failed == 0
                    ? nil
                    : "\(report.failed) of \(report.phrases) phrases could not be fetched: \(report.firstError ?? "")")
        }
        pending[language] = (voice, task)
    }

    private func finish(_ language: String, voice: String, failure: String?) {
        guard pending[language]?.voice == voice, !Task.isCancelled else { return }
        pending[language] = nil
        if let failure {
            failures[language] = failure
            logger.error(
                "the chosen voice is not warm; calls keep the voice in use",
                metadata: ["tts.voice": .string(voice), "error": .string(failure)])
            return
        }
        selection.use(voice == configured[language] ? nil : voice, for: language)
        logger.info("calls now speak with the chosen voice", metadata: ["tts.voice": .string(voice)])
    }
}
