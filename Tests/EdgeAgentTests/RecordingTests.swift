import CallRecording
import Foundation
import GRDB
import LocalStore
import NIOConcurrencyHelpers
import StoreTestSupport
import Sync
import TestSupport
import Testing

@testable import CallSimulator
@testable import EdgeAgent

@Suite("Call recording on the box", .serialized)
struct RecordingTests {
    @Test("a recorded call: notice first, both sides in their channels, the box cannot read it, the owner can")
    func recordedCall() async throws {
        let identity = try RecordingIdentity.generate()
        let llm = OpenAIChatDouble([ScriptedLLM.text("Of course, for how many people?")])
        let transcription = TranscriptionDouble(["Hi, I'd like a table for four people tomorrow at seven thirty."])
        var rig = CallTestRig(llm: llm, transcription: transcription, tts: ElevenLabsDouble())
        rig.adjust = { $0.recordingPublicKey = identity.publicKeyBase64 }
        try await rig.run { app, simulator in
            try await simulator.callToEnd(
                app, script: try .caller(saying: ["en-booking"], greetingWithin: .seconds(8)))
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            let agentTurns = try await CallLog(database: app.database).turns(callID: call.id)
                .filter { $0.speaker == .agent }
            #expect(agentTurns.first?.text.hasPrefix(app.phrases.text(.recordingNotice, language: "en")) == true)

            let recording = try #require(try await RecordingVault(database: app.database).all().first)
            #expect(recording.callID == call.id)
            #expect(recording.state == .complete)
            #expect(recording.sealedKey.count == 80)
            let path = app.recordings!.path(of: recording.fileName)
            let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(file.count == recording.sizeBytes)
            #expect(app.recordings!.measure(recording)?.sha256 == recording.ciphertextSHA256)
            // Nothing on the box reads it; the owner's identity does.
            #expect(!file.contains(subsequence: Array("OggS".utf8)))
            let plain = try SealedStreamReader.decrypt(file, identity: identity)
            #expect(plain.complete)
            let ogg = plain.bytes
            let folder = TemporaryFolder(prefix: "rec")
            let (left, right) = try await OggOpusDecoder.decodeStereo(ogg, folder: folder.path)
            // Duration within 10 % of the row's; the caller's speech on the left, the agent's voice on the right.
            let seconds = Double(left.count) / 8000
            #expect(abs(seconds * 1000 - Double(recording.durationMilliseconds ?? 0)) < 0.1 * seconds * 1000)
            #expect(rms(left) > 300 && rms(right) > 300, "left \(rms(left)), right \(rms(right))")
            let outbox = try await app.database.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE table_name = 'recordings'")
            }
            #expect(outbox == 1)
        }
    }

    @Test("a recording a crash left open is closed as partial at start and decrypts up to the crash")
    func crashRecovery() async throws {
        let folder = TemporaryFolder()
        let identity = try RecordingIdentity.generate()
        var configuration = testConfiguration(folder: folder)
        configuration.recordingPublicKey = identity.publicKeyBase64
        let logs = LogCapture()
        var app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
        let callID = try await CallLog(database: app.database).inbound(callSid: "CA00000000000000000000000000000crash")
            .id
        var (recorder, id) = try await app.recordings!.start(callID: callID, at: .now)
        for frame in 0..<200 {
            await recorder.caller([UInt8](repeating: UInt8(frame % 200), count: 160), timestampMilliseconds: frame * 20)
        }
        // The process dies here: no final tag, the row still says recording.
        recorder = try CallRecorder(path: folder.file("unused.rec"), ownerPublicKey: identity.publicKey, start: .now)
        _ = recorder
        await app.shutdown()

        app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
        let recovered = try #require(try await RecordingVault(database: app.database).recording(id: id))
        #expect(recovered.state == .partial)
        #expect((recovered.sizeBytes ?? 0) > 1000)
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: app.recordings!.path(of: recovered.fileName))))
        #expect(throws: RecordingFileError.self) { try SealedStreamReader.decrypt(file, identity: identity) }
        let partial = try SealedStreamReader.decrypt(file, identity: identity, allowPartial: true)
        #expect(
            !partial.complete && partial.chunks >= 2,
            "chunks \(partial.chunks), bytes \(file.count), ogg \(partial.bytes.count)")
        #expect(logs.all.contains { $0.contains("closed as partial") })
        await app.shutdown()
    }

    @Test("retention deletes the file and shreds the key, and says so in the audit log")
    func retention() async throws {
        let folder = TemporaryFolder()
        let identity = try RecordingIdentity.generate()
        var configuration = testConfiguration(folder: folder)
        configuration.recordingPublicKey = identity.publicKeyBase64
        configuration.recording.retentionDays = 30
        let logs = LogCapture()
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
        let callID = try await CallLog(database: app.database).inbound(callSid: "CA000000000000000000000000000000old")
            .id
        let (recorder, id) = try await app.recordings!.start(callID: callID, at: .now)
        let summary = await recorder.finish()
        try await app.recordings!.vault.finish(
            id: id, complete: true, durationMilliseconds: 0, sizeBytes: summary.sizeBytes,
            ciphertextSHA256: summary.ciphertextSHA256)
        let old = Date().addingTimeInterval(-31 * 86_400).unixMilliseconds
        try await app.database.write { db in
            try db.execute(sql: "UPDATE recordings SET started_at = ? WHERE id = ?", arguments: [old, id])
        }
        let path = app.recordings!.path(of: "\(id).rec")
        #expect(FileManager.default.fileExists(atPath: path))
        await app.recordings!.maintain(retentionDays: 30, logger: logs.logger)
        let row = try #require(try await RecordingVault(database: app.database).recording(id: id))
        #expect(row.state == .deleted && row.sealedKey.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: path))
        let audit = try await app.database.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM audit_log WHERE entity_id = ?", arguments: [id])
        }
        #expect(audit.contains("recording.delete"))
        await app.shutdown()
    }

    @Test(
        "the disk fills in the middle of a recorded call: recording stops with an alert, kept as partial, the call goes on",
        .enabled(if: getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true"))
    func diskFullMidCall() async throws {
        let identity = try RecordingIdentity.generate()
        let llm = OpenAIChatDouble([
            ScriptedLLM.text("Of course, for how many people?"), ScriptedLLM.text("Four people, noted. Anything else?"),
        ])
        let transcription = TranscriptionDouble([
            "Hi, I'd like a table for four people tomorrow at seven thirty.", "Four people please.",
        ])
        let mountPoint = NIOLockedValueBox<String?>(nil)
        var rig = CallTestRig(llm: llm, transcription: transcription, tts: ElevenLabsDouble())
        rig.adjust = { configuration in
            configuration.recordingPublicKey = identity.publicKeyBase64
            // The recordings folder is a 64 KiB file system with 8 KiB left: a couple of seconds of audio.
            let folder = configuration.recordingsFolder
            try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try! Self.mountSmallFileSystem(at: folder, kilobytes: 64)
            mountPoint.withLockedValue { $0 = folder }
            #expect(FileManager.default.createFile(atPath: folder + "/filler", contents: Data(count: 56 * 1024)))
        }
        defer { if let folder = mountPoint.withLockedValue({ $0 }) { Self.unmount(folder) } }
        let logs = rig.logs
        try await rig.run { app, simulator in
            try await simulator.callToEnd(
                app, script: try .caller(saying: ["en-booking", "en-booking"], greetingWithin: .seconds(8)))
            // The call went on: both answers were spoken after the disk filled.
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            let agentTurns = try await CallLog(database: app.database).turns(callID: call.id).filter {
                $0.speaker == .agent
            }
            #expect(agentTurns.contains { $0.text.contains("for how many people") })
            #expect(agentTurns.contains { $0.text.contains("Four people, noted") })

            let recording = try #require(try await RecordingVault(database: app.database).all().first)
            #expect(recording.state == .partial)
            #expect(app.metrics.exposition().contains("edge_recording_failures_total 1"))
            #expect(logs.all.contains { $0.contains("recording stopped early") && $0.contains("No space left") })
            // What reached the disk still decrypts.
            let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: app.recordings!.path(of: recording.fileName))))
            #expect(file.count == recording.sizeBytes)
            let plain = try SealedStreamReader.decrypt(file, identity: identity, allowPartial: true)
            #expect(!plain.complete && plain.chunks >= 1)
        }
    }

    static func mountSmallFileSystem(at folder: String, kilobytes: Int) throws {
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", folder]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            struct MountFailed: Error, CustomStringConvertible {
                var description: String { "mounting a small tmpfs needs root (CAP_SYS_ADMIN)" }
            }
            throw MountFailed()
        }
    }

    static func unmount(_ folder: String) {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = [folder]
        try? umount.run()
        umount.waitUntilExit()
    }

    func rms(_ samples: [Int16]) -> Double {
        (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(samples.count, 1))).squareRoot()
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool { firstRange(of: subsequence) != nil }
}

@Suite("Call recording: kill -9")
struct RecordingCrashTests {
    /// The helper built beside the test bundle (Tests/Support/RecordingCrashWriter).
    /// The helper built beside the test bundle (Tests/Support/RecordingCrashWriter).
    static var writerURL: URL { BuiltProgram.url("recording-crash-writer") }

    @Test("kill -9 in the middle of a recording: at restart it is partial and decrypts up to the crash")
    func killNine() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.writerURL.path), "build recording-crash-writer first")
        let folder = TemporaryFolder()
        let identity = try RecordingIdentity.generate()
        let process = Process()
        process.executableURL = Self.writerURL
        process.arguments = [folder.file("data"), identity.publicKeyBase64]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = try await ChildOutput.firstLine(output.fileHandleForReading)
        await process.killed()
        #expect(process.terminationReason == .uncaughtSignal)
        let id = try #require(line.hasPrefix("ready ") ? String(line.dropFirst(6)) : nil)

        var configuration = testConfiguration(folder: folder)
        configuration.recordingPublicKey = identity.publicKeyBase64
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
        let recording = try #require(try await RecordingVault(database: app.database).recording(id: id))
        #expect(recording.state == .partial)
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: app.recordings!.path(of: recording.fileName))))
        #expect(file.count == recording.sizeBytes)
        #expect(throws: RecordingFileError.self) { try SealedStreamReader.decrypt(file, identity: identity) }
        let partial = try SealedStreamReader.decrypt(file, identity: identity, allowPartial: true)
        // Three seconds were written; with chunks of about a second, at least two reached the disk.
        #expect(
            !partial.complete && partial.chunks >= 2,
            "chunks \(partial.chunks), bytes \(file.count), ogg \(partial.bytes.count)")
        #expect(partial.bytes.starts(with: Array("OggS".utf8)))
        await app.shutdown()
    }
}
