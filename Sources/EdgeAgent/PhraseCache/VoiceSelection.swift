import Synchronization

/// The cloud voice each language speaks with now, when staff chose one other than the configured
/// default; shared by every ``SpeechOutput`` of the agent, so a switch takes effect everywhere at once.
public final class VoiceSelection: Sendable {
    private let voices = Mutex<[String: String]>([:])
    /// The app's one ``VoiceSwitcher``, made when first asked for (``EdgeAgentApp/voices``).
    let switcher = Mutex<VoiceSwitcher?>(nil)

    public init() {}

    /// The chosen voice of `language`; nil is the configured one.
    public func voice(for language: String) -> String? {
        voices.withLock { $0[language] }
    }

    /// Speaks `language` with `voice` from now on (nil: the configured one again).
    public func use(_ voice: String?, for language: String) {
        voices.withLock { $0[language] = voice }
    }
}
