import AudioIO
import CallRecording
import Foundation
import GRDB
import LocalStore
import StoreTestSupport
import Sync
import Synchronization
import TestSupport
import Testing

@testable import CallSimulator
@testable import EdgeAgent

/// Runs the built `edge-agent` binary as a technician would.
@Suite("edge-agent command line")
struct CommandLineTests {
    static var binary: URL { BuiltProgram.url("edge-agent") }

    typealias Outcome = ChildProcess.Outcome

    /// Runs `edge-agent` with `arguments` in `folder`, waited for off the cooperative pool.
    func run(_ arguments: [String], environment: [String: String] = [:], in folder: TemporaryFolder) async throws
        -> Outcome
    {
        try await ChildProcess.run(Self.binary, arguments, environment: environment, in: folder.path)
    }

    @Test("a configuration typo exits 2 with one line naming it")
    func configurationTypo() async throws {
        let folder = TemporaryFolder()
        try "http:\n  prot: 80\n".write(toFile: folder.file("config.yaml"), atomically: true, encoding: .utf8)
        let fromFile = try await run(["serve", "--config", "config.yaml"], in: folder)
        #expect(fromFile.status == 2)
        #expect(
            fromFile.standardError
                == "edge-agent: configuration error: unknown key 'http.prot' in config.yaml line 2 (did you mean 'http.port'?)\n"
        )

        let fromEnvironment = try await run(["serve"], environment: ["EDGE_HTTP_PORT": "http"], in: folder)
        #expect(fromEnvironment.status == 2)
        #expect(fromEnvironment.standardError.split(separator: "\n").count == 1)
        #expect(fromEnvironment.standardError.contains("EDGE_HTTP_PORT"))
    }

    @Test("--check-config prints every setting with secrets masked and exits 0")
    func checkConfig() async throws {
        let folder = TemporaryFolder()
        let outcome = try await run(
            ["serve", "--check-config"],
            environment: ["TWILIO_AUTH_TOKEN": "very-secret-token", "EDGE_HTTP_PORT": "9090"],
            in: folder)
        #expect(outcome.status == 0)
        #expect(outcome.standardOutput.contains("http.port"))
        #expect(outcome.standardOutput.contains("= 9090  [environment EDGE_HTTP_PORT"))
        #expect(!outcome.standardOutput.contains("very-secret-token"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("edge-agent-data")))
    }

    @Test("demo places a whole call with no accounts and no network, and shows what was stored")
    func demo() async throws {
        let folder = TemporaryFolder()
        let outcome = try await run(["demo"], in: folder)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("Caller: Hi, I'd like a table for four tomorrow at seven thirty."))
        #expect(outcome.standardOutput.contains("reservation "))
        #expect(outcome.standardOutput.contains("Ada Lovelace, party of 4"))
        #expect(outcome.standardOutput.contains("Calls: 1, ended by the agent after goodbye: 1, reservations: 1"))
        #expect(
            outcome.standardOutput.contains(
                "Carried out once: 1 reservations for 1 bookings requested, 3 turns answered for 3 caller lines (3 heard)\n"
            ))
    }

    @Test("a demo run whose counts differ is a failure that names them")
    func demoMiscount() {
        var summary = DemoRunner.Summary()
        (summary.bookingsRequested, summary.reservations) = (20, 20)
        (summary.callerLines, summary.callerTurns, summary.answeredTurns) = (60, 60, 60)
        #expect(summary.miscount == nil)
        summary.reservations = 21
        #expect(summary.miscount == "21 reservations stored for 20 bookings requested")
        summary.reservations = 20
        (summary.callerTurns, summary.answeredTurns) = (59, 58)
        #expect(
            summary.miscount == "59 caller turns heard for 60 lines said; 58 turns answered for 60 caller lines")
    }

    @Test("demo --separate-callers drives the agent with edge-agent simulate in a second process")
    func demoWithSimulateProcess() async throws {
        let folder = TemporaryFolder()
        let outcome = try await run(["demo", "--calls", "2", "--separate-callers"], in: folder)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("The callers' process reported:"))
        #expect(outcome.standardOutput.contains("response latency: p50"))
        #expect(outcome.standardOutput.contains("frame pacing error: p50"))
        #expect(outcome.standardOutput.contains("Calls: 2, ending in a booking: 2, reservations: 2"))
        #expect(
            outcome.standardOutput.contains(
                "Carried out once: 2 reservations for 2 bookings requested, 6 turns answered for 6 caller lines (6 heard)\n"
            ))
    }

    @Test("simulate refuses to call without the webhook token")
    func simulateWithoutToken() async throws {
        let outcome = try await run(["simulate", "--url", "http://127.0.0.1:9"], in: TemporaryFolder())
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("TWILIO_AUTH_TOKEN"))
    }

    @Test("a damaged database exits 1 with one line and is not touched")
    func damagedDatabase() async throws {
        let folder = TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.file("data"), withIntermediateDirectories: true)
        let junk = Data(repeating: 7, count: 4096)
        try junk.write(to: URL(fileURLWithPath: folder.file("data/edge.sqlite")))
        let outcome = try await run(
            ["serve"], environment: ["EDGE_DATA_DIR": "data", "EDGE_HTTP_PORT": "0"], in: folder)
        #expect(outcome.status == 1)
        #expect(outcome.standardError.hasPrefix("edge-agent: database data/edge.sqlite is not a SQLite database"))
        #expect(outcome.standardError.split(separator: "\n").count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("data/edge.sqlite"))) == junk)
    }
}

@Suite("edge-agent cache")
struct CacheCommandTests {
    let line = CommandLineTests()

    @Test(
        "backup writes a checked copy; restore and a second serve refuse a running agent's folder; a damaged file is refused"
    )
    func backupAndRestore() async throws {
        let folder = TemporaryFolder()
        let environment = ["EDGE_DATA_DIR": folder.file("data")]
        let backup = try await line.run(["backup"], environment: environment, in: folder)
        #expect(backup.status == 0, "\(backup.standardError)")
        #expect(backup.standardOutput.hasPrefix("backup written: \(folder.file("data"))/backups/edge-"))
        #expect(backup.standardOutput.hasSuffix("; 0 older removed, 1 kept\n"))
        let backups = try FileManager.default.contentsOfDirectory(atPath: folder.file("data/backups"))
        #expect(backups.count == 1)
        let file = folder.file("data/backups/" + backups[0])

        do {
            let held = try DataFolderLock(dataDirectory: folder.file("data"))
            let refused = try await line.run(["restore", file], environment: environment, in: folder)
            #expect(refused.status == 1)
            #expect(refused.standardError.split(separator: "\n").count == 1)
            #expect(refused.standardError.contains("in use by a running edge-agent; stop it first"))
            // Nor does a second agent start on the same data folder.
            let second = try await line.run(
                ["serve"], environment: environment.merging(["EDGE_HTTP_PORT": "0"]) { $1 }, in: folder)
            #expect(second.status == 1)
            #expect(second.standardError.contains("in use by a running edge-agent"))
            withExtendedLifetime(held) {}
        }

        try Data("garbage".utf8).write(to: URL(fileURLWithPath: folder.file("bad.sqlite")))
        let damaged = try await line.run(["restore", "bad.sqlite"], environment: environment, in: folder)
        #expect(damaged.status == 1)
        #expect(damaged.standardError.contains("damaged or not a database; nothing was changed"))

        let restored = try await line.run(["restore", file], environment: environment, in: folder)
        #expect(restored.status == 0, "\(restored.standardError)")
        #expect(restored.standardOutput.contains("restored \(file) (0 reservations); the previous database is kept as"))
        let kept = try FileManager.default.contentsOfDirectory(atPath: folder.file("data"))
        #expect(
            kept.filter { $0.hasPrefix("edge.sqlite.before-restore-") && !$0.contains("-wal") && !$0.contains("-shm") }
                .count == 1)
    }

    @Test("cache verify and stats on a box: exit codes, damaged files evicted, JSON for scripts")
    func verifyAndStats() async throws {
        let folder = TemporaryFolder()
        let environment = ["EDGE_DATA_DIR": folder.file("data")]
        let empty = try await line.run(["cache", "verify"], environment: environment, in: folder)
        #expect(empty.status == 0)
        #expect(empty.standardOutput.contains("0 intact"))

        // Two phrases cached by the agent, one of them then damaged on disk.
        let logs = LogCapture()
        var configuration = testConfiguration(folder: folder)
        configuration.dataDirectory = folder.file("data")
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
        let voice = VoiceIdentity(
            provider: "elevenlabs", voice: "v", model: "m", outputFormat: "ulaw_8000", settings: "")
        let keys = ["Hello.", "Goodbye."].map { PhraseKey(text: $0, language: "en", voice: voice) }
        for key in keys { await app.phraseCache.store(key, audio: [UInt8](repeating: 0x42, count: 1600), pinned: true) }
        _ = app.phraseCache.cached(keys[0])
        await app.shutdown()
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: app.phraseCache.path(of: keys[1].hex))))
        bytes[50] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: app.phraseCache.path(of: keys[1].hex)))

        let stats = try await line.run(["cache", "stats", "--json"], environment: environment, in: folder)
        #expect(stats.status == 0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(stats.standardOutput.utf8)) as? [String: Any])
        #expect(object["entries"] as? Int == 2)
        #expect(object["memory_hits"] as? Int == 1)
        #expect(object["bytes"] as? Int == 3200)

        let verify = try await line.run(["cache", "verify"], environment: environment, in: folder)
        #expect(verify.status == 1)
        #expect(verify.standardOutput.contains("1 intact") && verify.standardOutput.contains("1 damaged"))
        #expect(verify.standardError.split(separator: "\n").count == 1)
        #expect(verify.standardError.contains("cache warm"))
        #expect(try await line.run(["cache", "verify"], environment: environment, in: folder).status == 0)

        let table = try await line.run(["cache", "stats"], environment: environment, in: folder)
        #expect(table.standardOutput.contains("money saved"))
    }

    @Test("cache warm without a cloud voice says what to configure; a bad catalog names file and line")
    func warmRefusals() async throws {
        let folder = TemporaryFolder()
        let noVoice = try await line.run(
            ["cache", "warm"], environment: ["EDGE_DATA_DIR": folder.file("data")], in: folder)
        #expect(noVoice.status == 1)
        #expect(noVoice.standardError.contains("ELEVENLABS_API_KEY"))

        try FileManager.default.createDirectory(atPath: folder.file("catalog"), withIntermediateDirectories: true)
        try "language: en\nphrases: [\n".write(
            toFile: folder.file("catalog/en.yaml"), atomically: true, encoding: .utf8)
        let badCatalog = try await line.run(
            ["cache", "warm"],
            environment: ["EDGE_DATA_DIR": folder.file("data"), "EDGE_CATALOG_DIR": folder.file("catalog")],
            in: folder)
        #expect(badCatalog.status == 1)
        #expect(badCatalog.standardError.contains("en.yaml") && badCatalog.standardError.contains("line"))
    }

    @Test("agent-bench phrase-cache measures hits and a warm against its local stand-in; edge-agent has no benchmarks")
    func bench() async throws {
        let folder = TemporaryFolder()
        let outcome = try await ChildProcess.run(
            BuiltProgram.url("agent-bench"), ["phrase-cache", "--hits", "50", "--phrases", "10"], in: folder.path)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("memory-tier hit"))
        #expect(outcome.standardOutput.contains("warm of 10 catalog phrases"))

        let gone = try await line.run(["cache", "bench"], in: folder)
        #expect(gone.status != 0)
        #expect(gone.standardError.contains("bench"))
    }
}

@Suite("edge-agent keys and recordings")
struct RecordingCommandTests {
    let line = CommandLineTests()

    @Test("keys generate writes a 0600 identity and prints the public key; it never overwrites")
    func keysGenerate() async throws {
        let folder = TemporaryFolder()
        let outcome = try await line.run(["keys", "generate", "--out", "owner.key"], in: folder)
        #expect(outcome.status == 0)
        let publicKey = try #require(outcome.standardOutput.split(separator: "\n").last.map(String.init))
        #expect(Data(base64Encoded: publicKey)?.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.file("owner.key"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let identity = try RecordingIdentity(
            fileText: String(contentsOfFile: folder.file("owner.key"), encoding: .utf8))
        #expect(identity.publicKeyBase64 == publicKey)
        let again = try await line.run(["keys", "generate", "--out", "owner.key"], in: folder)
        #expect(again.status == 1 && again.standardError.contains("never overwritten"))
    }

    @Test("recordings list and decrypt: the owner's identity opens it, is audited; a wrong one writes nothing")
    func listAndDecrypt() async throws {
        let folder = TemporaryFolder()
        let identity = try RecordingIdentity.generate()
        try identity.fileText.write(toFile: folder.file("owner.key"), atomically: true, encoding: .utf8)
        let stranger = try RecordingIdentity.generate()
        try stranger.fileText.write(toFile: folder.file("stranger.key"), atomically: true, encoding: .utf8)
        let (configuration, id) = try await recordedCall(folder: folder, identity: identity)
        let environment = [
            "EDGE_DATA_DIR": configuration.dataDirectory, "EDGE_RECORDING_PUBLIC_KEY": identity.publicKeyBase64,
        ]
        let list = try await line.run(["recordings", "list"], environment: environment, in: folder)
        #expect(list.status == 0)
        #expect(list.standardOutput.contains(id) && list.standardOutput.contains("complete"))
        #expect(list.standardOutput.contains("0:02"))

        let wrong = try await line.run(
            ["recordings", "decrypt", "--identity", "stranger.key", "--out", "call.opus", id], environment: environment,
            in: folder)
        #expect(wrong.status == 1)
        #expect(wrong.standardError.contains("wrong private key"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("call.opus")))

        let right = try await line.run(
            ["recordings", "decrypt", "--identity", "owner.key", "--out", "call.opus", id], environment: environment,
            in: folder)
        #expect(right.status == 0, "\(right.standardError)")
        let opus = try Data(contentsOf: URL(fileURLWithPath: folder.file("call.opus")))
        #expect(opus.starts(with: Data("OggS".utf8)))

        let reopened = try EdgeDatabase(dataDirectory: configuration.dataDirectory, logger: LogCapture().logger)
        let audit = try await reopened.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM audit_log WHERE entity_id = ?", arguments: [id])
        }
        #expect(audit == ["recording.decrypt"])
        try reopened.close()

        let notRecording = try await line.run(
            ["recordings", "decrypt", "--identity", "owner.key", "nope"], environment: environment, in: folder)
        #expect(notRecording.status == 1 && notRecording.standardError.contains("no recording nope"))
    }

    /// A two-second recorded call from +15551234567, in `folder`'s data directory.
    func recordedCall(folder: TemporaryFolder, identity: RecordingIdentity) async throws -> (AgentConfiguration, String)
    {
        var configuration = testConfiguration(folder: folder)
        configuration.recordingPublicKey = identity.publicKeyBase64
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
        let callID = try await CallLog(database: app.database).inbound(callSid: "CA0000000000000000000000000000c11").id
        let (recorder, id) = try await app.recordings!.start(callID: callID, at: .now)
        for frame in 0..<100 {
            await recorder.caller(
                (0..<160).map { MuLaw.encode(Int16(5000 * sin(Double(frame * 160 + $0) * 0.3))) },
                timestampMilliseconds: frame * 20)
        }
        let summary = await recorder.finish()
        try await app.recordings!.vault.finish(
            id: id, complete: true, durationMilliseconds: summary.durationMilliseconds, sizeBytes: summary.sizeBytes,
            ciphertextSHA256: summary.ciphertextSHA256)
        await app.shutdown()
        return (configuration, id)
    }

    @Test(
        "customers export prints the caller's calls and recordings; erase shreds the recording and leaves a tombstone")
    func customersExportAndErase() async throws {
        let folder = TemporaryFolder()
        let identity = try RecordingIdentity.generate()
        let (configuration, id) = try await recordedCall(folder: folder, identity: identity)
        let environment = ["EDGE_DATA_DIR": configuration.dataDirectory]
        let file = (configuration.recordingsFolder as NSString).appendingPathComponent("\(id).rec")
        // A second name for the file's bytes, as a copy left on the disk would be.
        try FileManager.default.linkItem(atPath: file, toPath: folder.file("remnant.rec"))
        #expect(
            try SealedStreamReader.decrypt(
                [UInt8](Data(contentsOf: URL(fileURLWithPath: folder.file("remnant.rec")))), identity: identity
            ).complete)

        let export = try await line.run(
            ["customers", "export", "--out", "export.json", "+1 555 123 4567"], environment: environment, in: folder)
        #expect(export.status == 0, "\(export.standardError)")
        let json = try String(contentsOfFile: folder.file("export.json"), encoding: .utf8)
        #expect(json.contains(id) && json.contains("CA0000000000000000000000000000c11"))
        #expect(!json.contains("sealed_key"))
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.file("export.json"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let erase = try await line.run(["customers", "erase", "+15551234567"], environment: environment, in: folder)
        #expect(erase.status == 0, "\(erase.standardError)")
        #expect(erase.standardOutput.contains("1 calls") && erase.standardOutput.contains("1 recordings"))
        #expect(!FileManager.default.fileExists(atPath: file))
        // The header with the sealed key was overwritten before the unlink: even the owner cannot open the remnant.
        #expect(throws: RecordingFileError.self) {
            try SealedStreamReader.decrypt(
                [UInt8](Data(contentsOf: URL(fileURLWithPath: folder.file("remnant.rec")))), identity: identity)
        }
        let reopened = try EdgeDatabase(dataDirectory: configuration.dataDirectory, logger: LogCapture().logger)
        let (calls, recordings, tombstones, audit) = try await reopened.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM calls")!,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM recordings")!,
                try String.fetchAll(
                    db, sql: "SELECT table_name FROM outbox WHERE operation = 'erase' ORDER BY table_name"),
                try String.fetchAll(db, sql: "SELECT action FROM audit_log WHERE action LIKE 'customer.%' ORDER BY id")
            )
        }
        try reopened.close()
        #expect(calls == 0 && recordings == 0)
        #expect(tombstones == ["calls", "recordings"])
        #expect(audit == ["customer.export", "customer.erase"])

        let bad = try await line.run(["customers", "erase", "555-1234"], environment: environment, in: folder)
        #expect(bad.status == 1 && bad.standardError.contains("E.164"))
    }

    @Test("a malformed recording public key stops start-up with a clear message")
    func malformedKey() async throws {
        let outcome = try await line.run(
            ["serve"], environment: ["EDGE_RECORDING_PUBLIC_KEY": "not-a-key"], in: TemporaryFolder())
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("EDGE_RECORDING_PUBLIC_KEY"))
        #expect(outcome.standardError.contains("keys generate"))
    }
}
