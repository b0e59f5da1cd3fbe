/// How the agent's voice sounds for a sentence: ElevenLabs' voice settings. A call changes its style
/// as it goes: steadier and slower for a caller who sounds upset, slower when the caller asks.
public struct VoiceStyle: Sendable, Hashable {
    /// Lower is more expressive, higher steadier.
    public var stability: Double
    public var similarityBoost: Double
    /// Style exaggeration; 0 adds no latency.
    public var style: Double
    /// 1 is normal; ElevenLabs takes 0.7 to 1.2.
    public var speed: Double
    /// The provider's voice to speak with; nil is the language's configured voice.
    public var voice: String?

    public init(stability: Double, similarityBoost: Double, style: Double, speed: Double, voice: String? = nil) {
        self.voice = voice
        self.stability = stability
        self.similarityBoost = similarityBoost
        self.style = style
        self.speed = speed
    }

    /// The settings every sentence used before styles existed (the phrase cache's keys depend on them).
    public static let standard = VoiceStyle(stability: 0.5, similarityBoost: 0.8, style: 0, speed: 1)

    /// For a caller who sounds frustrated: a steady, unhurried voice, never an excited one.
    public var calmer: VoiceStyle {
        var calmer = self
        calmer.stability = max(stability, 0.8)
        calmer.style = 0
        calmer.speed = min(speed, 0.92)
        return calmer
    }

    /// One step slower, for a caller who asked (at most three steps, to 0.7).
    public var slower: VoiceStyle {
        var slower = self
        slower.speed = max(0.7, ((speed - 0.1) * 100).rounded() / 100)
        return slower
    }

    /// The same settings spoken by `voice`.
    public func spoken(by voice: String?) -> VoiceStyle {
        var style = self
        style.voice = voice
        return style
    }

    /// The settings (not the voice) in the stable text form of a ``VoiceIdentity``.
    public var settingsText: String {
        "stability=\(stability),similarity_boost=\(similarityBoost),style=\(style),speaker_boost=true,speed=\(speed)"
    }
}

extension VoiceIdentity {
    /// The identity of this voice spoken in `style` (by the style's voice, when it names one): its own
    /// cache keys; the standard style's are those of old.
    public func styled(_ style: VoiceStyle) -> VoiceIdentity {
        guard style != .standard else { return self }
        return VoiceIdentity(
            provider: provider, voice: style.voice ?? voice, model: model, outputFormat: outputFormat,
            settings: style.settingsText)
    }
}
