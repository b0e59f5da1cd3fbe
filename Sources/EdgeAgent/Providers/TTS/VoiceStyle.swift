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

    /// How a call wants a voice delivered, whatever the voice's own settings: calmer while the caller
    /// is strained, a step slower for each time they asked.
    public struct Delivery: Sendable, Hashable {
        public var calmer = false
        public var slowerSteps = 0

        /// The voice as configured.
        public static let usual = Delivery()

        public init(calmer: Bool = false, slowerSteps: Int = 0) {
            self.calmer = calmer
            self.slowerSteps = slowerSteps
        }
    }

    /// These settings delivered as `delivery` asks.
    public func delivered(_ delivery: Delivery) -> VoiceStyle {
        var style = self
        for _ in 0..<max(0, delivery.slowerSteps) { style = style.slower }
        return delivery.calmer ? style.calmer : style
    }

    /// The ranges a configured voice's settings must lie in (ElevenLabs' own).
    typealias Range = (
        name: String, range: ClosedRange<Double>, path: any WritableKeyPath<VoiceStyle, Double> & Sendable
    )
    static let ranges: [Range] = [
        ("stability", 0...1, \.stability), ("similarity_boost", 0...1, \.similarityBoost), ("style", 0...1, \.style),
        ("speed", 0.7...1.2, \.speed),
    ]

    /// Settings from `name=value` pairs (`stability=0.6`, `speed=0.95`) over the standard ones; the
    /// reason when a name is unknown or a value out of its range.
    public static func parse(_ pairs: [(name: String, value: String)]) -> Result<VoiceStyle, VoiceSettingsError> {
        var settings = VoiceStyle.standard
        for pair in pairs {
            guard let known = ranges.first(where: { $0.name == pair.name }) else {
                let names = ranges.map(\.name).joined(separator: ", ")
                return .failure(VoiceSettingsError(reason: "'\(pair.name)' is not a voice setting (\(names))"))
            }
            guard let value = Double(pair.value), known.range.contains(value) else {
                return .failure(
                    VoiceSettingsError(
                        reason:
                            "\(pair.name) '\(pair.value)' is not a number from \(known.range.lowerBound) to \(known.range.upperBound)"
                    ))
            }
            settings[keyPath: known.path] = value
        }
        return .success(settings)
    }

    /// The settings that differ from the standard ones, as `name=value` pairs in a fixed order.
    public var changedSettings: [(name: String, value: Double)] {
        Self.ranges.compactMap { item in
            self[keyPath: item.path] == VoiceStyle.standard[keyPath: item.path]
                ? nil : (item.name, self[keyPath: item.path])
        }
    }

    /// The settings (not the voice) in the stable text form of a ``VoiceIdentity``.
    public var settingsText: String {
        "stability=\(stability),similarity_boost=\(similarityBoost),style=\(style),speaker_boost=true,speed=\(speed)"
    }
}

/// Why a voice's configured settings were refused.
public struct VoiceSettingsError: Error, Sendable {
    public let reason: String
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
