import AudioIO
import EdgeAgent
import Foundation

/// Makes a simulated caller's speech: espeak-ng (the `espeak-ng` program from Debian) reads the text,
/// and the audio is resampled to 8 kHz mu-law as a telephone line carries it.
public enum CallerVoice {
    /// Why speech could not be made.
    public struct Unavailable: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The caller saying `text` in `language` (`en` or `es`), followed by 700 ms of silence.
    public static func speak(_ text: String, language: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["espeak-ng", "-v", language == "es" ? "es" : "en-us", "-s", "165", "--stdout", text]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Unavailable(description: "espeak-ng could not be started; install it (apt-get install espeak-ng)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Unavailable(description: "espeak-ng failed; install it (apt-get install espeak-ng)")
        }
        let audio = try WAVFile(data: Array(data)).telephoneAudio()
        return audio + [UInt8](repeating: MuLaw.silence, count: 700 * 8)
    }

    /// Reads caller audio from a file: raw 8 kHz mu-law (`.ulaw`, `.raw`) or a WAV file.
    public static func load(path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Unavailable(description: "cannot read \(path)")
        }
        let bytes = Array(data)
        if bytes.starts(with: Array("RIFF".utf8)) { return try WAVFile(data: bytes).telephoneAudio() }
        return bytes
    }
}
