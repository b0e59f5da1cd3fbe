import ArgumentParser
import CallRecording
import CallSimulator
import EdgeAgent
import Foundation
import LocalStore
import Sync

/// `edge-agent recordings list | decrypt`.
struct Recordings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the box's encrypted call recordings, and decrypt one with the owner's identity.",
        subcommands: [List.self, Decrypt.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Id, call, duration, size and state of each recording.")

        @OptionGroup var options: Cache.Options

        func run() async throws {
            let recordings = try await options.withApp { app in try await RecordingVault(database: app.database).all() }
            print(
                "id                                    call                                  duration  size      state")
            for recording in recordings {
                let seconds = (recording.durationMilliseconds ?? 0) / 1000
                let duration = String(format: "%d:%02d", seconds / 60, seconds % 60)
                let size = ByteCountFormatter.string(fromByteCount: Int64(recording.sizeBytes ?? 0), countStyle: .file)
                print(
                    "\(recording.id)  \(recording.callID)  \(duration.padding(toLength: 8, withPad: " ", startingAt: 0))  "
                        + "\(size.padding(toLength: 8, withPad: " ", startingAt: 0))  \(recording.state.rawValue)")
            }
        }
    }

    struct Decrypt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt a recording to Ogg Opus, checking it end to end.",
            discussion: """
                Writes the .opus file to --out, or to standard output. Nothing is written unless the whole \
                recording checks; a recording closed as partial after a crash decrypts up to its last complete \
                chunk. Every decryption is in the audit log.
                """)

        @OptionGroup var options: Cache.Options

        @Option(name: .long, help: "The owner's identity file (from `edge-agent keys generate`).")
        var identity: String

        @Option(name: .long, help: "Where to write the .opus file (standard output when absent).")
        var out: String?

        @Argument(help: "The recording's id (recordings.id).")
        var id: String

        func run() async throws {
            guard let text = try? String(contentsOfFile: identity, encoding: .utf8) else {
                throw fail("cannot read the identity file \(identity)", code: 1)
            }
            let owner: RecordingIdentity
            do {
                owner = try RecordingIdentity(fileText: text)
            } catch {
                throw fail("\(identity): \(error)", code: 1)
            }
            try await options.withApp { app in
                let vault = RecordingVault(database: app.database)
                guard let recording = try await vault.recording(id: id) else {
                    throw CommandFailure("no recording \(id); see `edge-agent recordings list`")
                }
                guard recording.state != .deleted else {
                    throw CommandFailure("recording \(id) was deleted (retention or erasure): its key is gone")
                }
                guard recording.state != .recording else {
                    throw CommandFailure("recording \(id) is still being recorded")
                }
                let path = (app.configuration.recordingsFolder as NSString).appendingPathComponent(recording.fileName)
                guard let data = FileManager.default.contents(atPath: path) else {
                    if try await vault.fileDeletedAfterUpload(id: id) != nil {
                        throw CommandFailure(
                            "recording \(id) was uploaded to headquarters and deleted from this box "
                                + "(recording.delete_after_upload); headquarters keeps it, still encrypted to you")
                    }
                    throw CommandFailure("the file of recording \(id) is missing (\(path))")
                }
                let plain = try SealedStreamReader.decrypt(
                    [UInt8](data), identity: owner, allowPartial: recording.state == .partial)
                try await vault.recordAccess(id: id, action: "recording.decrypt", actor: "technician")
                if let out {
                    try Data(plain.bytes).write(to: URL(fileURLWithPath: out), options: .withoutOverwriting)
                    FileHandle.standardError.write(
                        Data(
                            "decrypted \(plain.chunks) chunks\(plain.complete ? "" : " (partial recording)") to \(out)\n"
                                .utf8))
                } else {
                    FileHandle.standardOutput.write(Data(plain.bytes))
                }
            }
        }
    }
}

/// A command's own refusal, as one line.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
