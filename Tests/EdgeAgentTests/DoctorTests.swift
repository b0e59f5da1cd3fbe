import Foundation
import Hummingbird
import LocalStore
import TestSupport
import Testing

@testable import EdgeAgent

@Suite("edge-agent doctor")
struct DoctorTests {
    static func checks(
        _ folder: TemporaryFolder, clock: Bool?, now: Date = Date(),
        adjust: (inout AgentConfiguration) -> Void = { _ in }
    ) async throws
        -> [String: DoctorCheck]
    {
        var configuration = testConfiguration(folder: folder)
        adjust(&configuration)
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
        let checks = await Doctor(app: app, clockSynchronized: { clock }, now: now).run()
        await app.shutdown()
        #expect(
            checks.map(\.name) == [
                "configuration", "database", "disk", "clock", "backup", "recording key", "phrase cache",
                "language model", "headquarters", "twilio number",
            ])
        return Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0) })
    }

    @Test("a healthy box passes; a box never backed up and without a cloud voice warns, with what to do")
    func healthy() async throws {
        let folder = TemporaryFolder()
        let fresh = try await Self.checks(folder, clock: true)
        #expect(fresh["database"] == DoctorCheck("database", .pass, "integrity ok, 0 reservations"))
        #expect(fresh["disk"]?.status == .pass)
        #expect(fresh["clock"] == DoctorCheck("clock", .pass, "synchronised (NTP)"))
        #expect(fresh["backup"]?.status == .warn)
        #expect(fresh["backup"]?.fix == "edge-agent backup, and systemctl enable --now edge-agent-backup.timer")
        #expect(fresh["phrase cache"]?.status == .warn)

        let app = try await EdgeAgentApp.prepare(
            configuration: testConfiguration(folder: folder), logger: LogCapture().logger)
        let backups = DatabaseBackups(
            folder: DatabaseBackups.defaultFolder(dataDirectory: app.configuration.dataDirectory))
        _ = try await backups.take(of: app.database)
        await app.shutdown()
        let backedUp = try await Self.checks(folder, clock: true)
        #expect(backedUp["backup"] == DoctorCheck("backup", .pass, "the last backup is 0 hours old"))
        #expect(backedUp.values.allSatisfy { $0.status != .fail })
    }

    @Test("a stale backup, a clock out of sync and a full disk each fail with their fix; an unknown clock warns")
    func broken() async throws {
        let folder = TemporaryFolder()
        let app = try await EdgeAgentApp.prepare(
            configuration: testConfiguration(folder: folder), logger: LogCapture().logger)
        _ = try await DatabaseBackups(
            folder: DatabaseBackups.defaultFolder(dataDirectory: app.configuration.dataDirectory)
        )
        .take(of: app.database)
        await app.shutdown()
        let later = Date().addingTimeInterval(10 * 86_400)
        let checks = try await Self.checks(folder, clock: false, now: later) { $0.minimumFreeDiskBytes = Int64.max }
        #expect(checks["backup"]?.status == .fail)
        #expect(checks["backup"]?.detail == "the last backup is 240 hours old")
        #expect(checks["clock"]?.status == .fail)
        #expect(checks["clock"]?.fix?.contains("timedatectl set-ntp true") == true)
        #expect(checks["disk"]?.status == .fail)
        #expect(checks["disk"]?.fix?.contains("disk.minimum_free_mb") == true)

        let unknownClock = try await Self.checks(folder, clock: nil)
        #expect(unknownClock["clock"]?.status == .warn)
    }

    @Test("the phrase cache is reported per language: cold, it warns with the fix; warmed, it passes")
    func phraseCacheWarmth() async throws {
        let tts = ElevenLabsDouble()
        let router = Router()
        tts.register(on: router)
        try await withLoopbackServer(router) { url in
            let folder = TemporaryFolder()
            var configuration = testConfiguration(folder: folder)
            configuration.textToSpeech.baseURL = url
            configuration.textToSpeech.apiKey = Secret(ElevenLabsDouble.apiKey)
            configuration.textToSpeech.voiceEnglish = "voice-en"
            configuration.textToSpeech.voiceSpanish = "voice-es"
            let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
            let cold = await Doctor(app: app, clockSynchronized: { true }).run().filter { $0.name.hasPrefix("phrase") }
            #expect(cold.map(\.name) == ["phrase cache en", "phrase cache es"])
            #expect(cold.allSatisfy { $0.status == .warn && $0.detail.hasPrefix("0% warm") }, "\(cold)")
            #expect(cold.allSatisfy { $0.fix?.hasPrefix("edge-agent cache warm") == true })
            // What is checked is the doctor's reading of the cache, not the cloud's pace: on a busy
            // machine a fetch may time out, and a second warm fetches only what is still missing.
            var report = try await app.makePhraseWarmer().warm()
            for _ in 0..<3 where report.failed > 0 { report = try await app.makePhraseWarmer().warm() }
            #expect(report.failed == 0)
            let warm = await Doctor(app: app, clockSynchronized: { true }).run().filter { $0.name.hasPrefix("phrase") }
            #expect(warm.allSatisfy { $0.status == .pass && $0.detail.contains("% warm in") }, "\(warm)")
            await app.shutdown()
        }
    }

    @Test("on the command line: one line per check, JSON for scripts, exit 1 on a failure")
    func commandLine() async throws {
        let line = CommandLineTests()
        let folder = TemporaryFolder()
        let environment = ["EDGE_DATA_DIR": folder.file("data")]
        let healthy = try await line.run(["doctor"], environment: environment, in: folder)
        #expect(healthy.status == 0, "\(healthy.standardError)")
        let lines = healthy.standardOutput.split(separator: "\n")
        #expect(lines.count == 10)
        #expect(lines.first == "PASS  configuration   loaded and valid")
        #expect(lines.contains { $0.hasPrefix("WARN  backup          no backup in ") })

        let json = try await line.run(["doctor", "--json"], environment: environment, in: folder)
        let decoded = try JSONDecoder().decode([DoctorCheck].self, from: Data(json.standardOutput.utf8))
        #expect(
            decoded.map(\.name) == [
                "configuration", "database", "disk", "clock", "backup", "recording key", "phrase cache",
                "language model", "headquarters", "twilio number",
            ])

        let full = try await line.run(
            ["doctor"], environment: environment.merging(["EDGE_MINIMUM_FREE_DISK_MB": "10000000"]) { $1 }, in: folder)
        #expect(full.status == 1)
        #expect(full.standardOutput.contains("FAIL  disk "))
        #expect(full.standardOutput.contains("fix: free space in the data folder"))
    }
}
