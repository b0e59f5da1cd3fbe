import Foundation

/// Levels in dBFS, and their power relative to full scale: levels are averaged in power, as a
/// meter does, never in decibels.
public enum Decibels {
    /// The level of a root-mean-square amplitude of 16-bit samples; below `floor` counts as `floor`
    /// (silence has a level, not minus infinity).
    public static func level(rms: Double, floor: Double = 1) -> Double {
        20 * log10(max(rms, floor) / 32768)
    }

    /// The power of a level, relative to full scale.
    public static func power(_ decibels: Double) -> Double {
        pow(10, decibels / 10)
    }

    /// The amplitude ratio of a gain in decibels (+6 dB about doubles the samples).
    public static func amplitude(_ decibels: Double) -> Double {
        pow(10, decibels / 20)
    }

    /// The level of a power relative to full scale.
    public static func level(power: Double) -> Double {
        10 * log10(power)
    }

    /// The level of the mean of `powers`, which must not be empty.
    public static func level(meanOf powers: some Collection<Double>) -> Double {
        level(power: powers.reduce(0, +) / Double(powers.count))
    }
}
