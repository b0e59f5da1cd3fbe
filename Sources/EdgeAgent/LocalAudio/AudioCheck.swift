import AudioIO
import Dispatch
import Foundation

/// `edge-agent audio test`: the box's own speaker and microphone, checked on site with no phone line.
/// Plays a line of the agent's through the playback device, then records from the capture device and
/// reports its level every half second, so a technician sees at once whether the microphone hears.
public struct AudioCheck: Sendable {
    /// What the check found.
    public struct Report: Sendable, CustomStringConvertible {
        /// Seconds of the phrase played.
        public var played: Double
        /// The recording's level (dBFS) per half second.
        public var levels: [Double]
        /// The loudest half second and the whole recording's level (dBFS).
        public var peak: Double
        public var overall: Double

        /// Quieter than this over the whole recording is no signal at all (a muted or missing microphone).
        public static let silenceDecibels = -60.0

        public var heardSignal: Bool { peak > Self.silenceDecibels }

        public var description: String {
            var lines = [String(format: "played %.1f s of the agent's voice", played), "recorded levels (dBFS):"]
            for (index, level) in levels.enumerated() {
                let bar = String(repeating: "#", count: max(0, Int((level + 70) / 2)))
                lines.append(String(format: "  %4.1f s %6.1f %@", Double(index) * 0.5, level, bar))
            }
            lines.append(String(format: "peak %.1f dBFS, overall %.1f dBFS", peak, overall))
            lines.append(
                heardSignal
                    ? "the microphone hears"
                    : "no signal from the microphone: check it is plugged in, chosen (--capture) and not muted (alsamixer)"
            )
            return lines.joined(separator: "\n")
        }
    }

    /// The one thread ALSA's blocking reads and writes run on.
    static let queue = DispatchQueue(label: "edge-agent.alsa")

    let playbackDevice: String
    let captureDevice: String
    let recordFor: Duration

    public init(playbackDevice: String, captureDevice: String, recordFor: Duration = .seconds(5)) {
        self.playbackDevice = playbackDevice
        self.captureDevice = captureDevice
        self.recordFor = recordFor
    }

    /// Plays `phrase` (8 kHz mu-law), then records.
    public func run(phrase: [UInt8]) async throws -> Report {
        let (playback, capture, recordFor) = (playbackDevice, captureDevice, recordFor)
        return try await Self.onALSAThread {
            let speaker = try ALSAPCM(device: playback, direction: .playback)
            try speaker.write(MuLaw.decode(phrase))
            speaker.drain()
            let microphone = try ALSAPCM(device: capture, direction: .capture)
            let count = Int(recordFor.components.seconds) * TelephoneAudio.sampleRate
            let recorded = try microphone.read(count)
            return Self.report(played: Double(phrase.count) / Double(TelephoneAudio.sampleRate), recorded: recorded)
        }
    }

    static func report(played: Double, recorded: [Int16]) -> Report {
        let half = TelephoneAudio.sampleRate / 2
        let levels = stride(from: 0, to: recorded.count, by: half).map { start in
            decibels(recorded[start..<min(start + half, recorded.count)])
        }
        return Report(
            played: played, levels: levels, peak: levels.max() ?? -96, overall: decibels(recorded[...]))
    }

    static func decibels(_ samples: ArraySlice<Int16>) -> Double {
        guard !samples.isEmpty else { return -96 }
        let power = samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)
        return max(-96, Decibels.level(rms: power.squareRoot(), floor: 0.5))
    }

    /// Runs blocking ALSA work on its own thread, never on the cooperative pool.
    static func onALSAThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
