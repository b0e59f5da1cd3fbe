import Foundation

/// Decodes Ogg Opus with `opusdec` (opus-tools), an implementation other than the one under test.
public enum OggOpusDecoder {
    /// `opusdec` failed or wrote no WAV data.
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Decodes `ogg` (written to `folder`) to 8 kHz stereo: the left and right channels' samples.
    public static func decodeStereo(_ ogg: [UInt8], folder: String) async throws -> (left: [Int16], right: [Int16]) {
        let input = (folder as NSString).appendingPathComponent("decoded-\(UUID()).opus")
        let output = input + ".wav"
        defer {
            try? FileManager.default.removeItem(atPath: input)
            try? FileManager.default.removeItem(atPath: output)
        }
        try Data(ogg).write(to: URL(fileURLWithPath: input))
        let outcome = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/opusdec"), ["--quiet", "--rate", "8000", "--force-wav", input, output])
        guard outcome.status == 0 else {
            throw Failed(description: "opusdec exited \(outcome.status): \(outcome.standardError)")
        }
        let wav = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        guard let data = wav.firstRange(of: Array("data".utf8)) else {
            throw Failed(description: "opusdec wrote no WAV data chunk")
        }
        func sample(_ index: Int) -> Int16 { Int16(bitPattern: UInt16(wav[index]) | UInt16(wav[index + 1]) << 8) }
        var left: [Int16] = []
        var right: [Int16] = []
        var index = data.upperBound + 4
        while index + 3 < wav.count {
            left.append(sample(index))
            right.append(sample(index + 2))
            index += 4
        }
        return (left, right)
    }
}
