import CALSA
import Foundation

/// The sound devices ALSA knows of.
public enum ALSADevices {
    /// One device: the name to open it by, what ALSA says it is, and which ways it goes.
    public struct Device: Sendable, Equatable {
        public let name: String
        public let description: String
        public let playback: Bool
        public let capture: Bool
    }

    /// Every PCM device with a hint (sound cards, `default`, `null`, plugins configured with a hint).
    public static func list() -> [Device] {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        guard snd_device_name_hint(-1, "pcm", &hints) >= 0, let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        var devices: [Device] = []
        var index = 0
        while let hint = hints[index] {
            index += 1
            func value(_ key: String) -> String? {
                guard let text = snd_device_name_get_hint(hint, key) else { return nil }
                defer { free(text) }
                return String(cString: text)
            }
            guard let name = value("NAME") else { continue }
            let description = (value("DESC") ?? "").split(separator: "\n").joined(separator: ", ")
            let direction = value("IOID")
            devices.append(
                Device(
                    name: name, description: description, playback: direction != "Input",
                    capture: direction != "Output"))
        }
        return devices
    }
}
