public import Foundation
import GRDB
public import LocalStore
public import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One line of `edge-agent doctor`: what was checked, how it went, and for anything short of a pass
/// the one thing to do about it.
public struct DoctorCheck: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case pass, warn, fail
    }

    public let name: String
    public let status: Status
    public let detail: String
    /// What to do, when the check did not pass.
    public let fix: String?

    public init(_ name: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

/// What a technician checks on site: on the box itself the database, the disk, the clock, the last
/// backup, the recording key and the phrase cache; over the network each configured cloud provider's
/// key, headquarters' acceptance of the device key, and where Twilio sends the restaurant's calls
/// (see `Doctor+Network.swift`).
public struct Doctor: Sendable {
    let app: EdgeAgentApp
    let backups: DatabaseBackups
    /// Whether the system clock is synchronised (nil: cannot tell); `timedatectl` by default.
    let clockSynchronized: @Sendable () -> Bool?
    let now: Date
    /// How long each network check waits for its answer.
    let networkTimeout: TimeAmount

    /// Backups older than this fail the check (the timer runs nightly).
    static let backupMaximumAge: TimeInterval = 36 * 3600

    public init(
        app: EdgeAgentApp, backups: DatabaseBackups? = nil,
        clockSynchronized: @escaping @Sendable () -> Bool? = Doctor.timedatectlSynchronized, now: Date = Date(),
        networkTimeout: TimeAmount = .seconds(10)
    ) {
        self.app = app
        self.backups =
            backups
            ?? DatabaseBackups(folder: DatabaseBackups.defaultFolder(dataDirectory: app.configuration.dataDirectory))
        self.clockSynchronized = clockSynchronized
        self.now = now
        self.networkTimeout = networkTimeout
    }

    /// Every check, in the order they are printed.
    public func run() async -> [DoctorCheck] {
        var checks = [DoctorCheck("configuration", .pass, "loaded and valid")]
        checks.append(await database())
        checks.append(disk())
        checks.append(clock())
        checks.append(backup())
        checks.append(recordingKey())
        checks += phraseCache()
        checks += await network()
        return checks
    }

    func database() async -> DoctorCheck {
        do {
            let (problems, reservations) = try await app.database.read { db in
                (
                    try String.fetchAll(db, sql: "PRAGMA integrity_check(5)"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM reservations") ?? 0
                )
            }
            guard problems == ["ok"] else {
                return DoctorCheck(
                    "database", .fail, "integrity check failed",
                    fix: "stop the agent and restore the last backup: edge-agent restore FILE")
            }
            return DoctorCheck("database", .pass, "integrity ok, \(reservations) reservations")
        } catch {
            return DoctorCheck(
                "database", .fail, "\(error)",
                fix: "stop the agent and restore the last backup: edge-agent restore FILE")
        }
    }

    func disk() -> DoctorCheck {
        guard let free = ReadinessProbe.freeBytes(in: app.configuration.dataDirectory) else {
            return DoctorCheck("disk", .fail, "cannot read the data folder's free space", fix: "check EDGE_DATA_DIR")
        }
        let minimum = app.configuration.minimumFreeDiskBytes
        guard free >= minimum else {
            return DoctorCheck(
                "disk", .fail, "\(free / 1_048_576) MiB free, below the \(minimum / 1_048_576) MiB minimum",
                fix: "free space in the data folder (old backups, logs) or lower disk.minimum_free_mb")
        }
        return DoctorCheck("disk", .pass, "\(free / 1_048_576) MiB free")
    }

    func clock() -> DoctorCheck {
        switch clockSynchronized() {
        case true?: DoctorCheck("clock", .pass, "synchronised (NTP)")
        case false?:
            DoctorCheck(
                "clock", .fail, "not synchronised: bookings and signed requests need the right time",
                fix: "timedatectl set-ntp true, and check that the box reaches an NTP server")
        case nil:
            DoctorCheck(
                "clock", .warn, "cannot tell whether the clock is synchronised (no timedatectl answer)",
                fix: "check the time with date, and NTP with timedatectl")
        }
    }

    func backup() -> DoctorCheck {
        guard let newest = backups.backups().first else {
            return DoctorCheck(
                "backup", .warn, "no backup in \(backups.folder) yet",
                fix: "edge-agent backup, and systemctl enable --now edge-agent-backup.timer")
        }
        let age = now.timeIntervalSince(newest.takenAt)
        let hours = Int(age / 3600)
        guard age <= Self.backupMaximumAge else {
            return DoctorCheck(
                "backup", .fail, "the last backup is \(hours) hours old",
                fix: "systemctl status edge-agent-backup.timer; run edge-agent backup")
        }
        return DoctorCheck("backup", .pass, "the last backup is \(hours) hours old")
    }

    func recordingKey() -> DoctorCheck {
        // A malformed key stops the agent from starting at all, so a prepared agent's key is sound.
        guard app.configuration.recording.enabled, app.configuration.recordingPublicKey != nil else {
            return DoctorCheck("recording key", .pass, "call recording is off")
        }
        return DoctorCheck("recording key", .pass, "calls are recorded, sealed to the owner's key")
    }

    func phraseCache() -> [DoctorCheck] {
        let warmer = app.makePhraseWarmer()
        guard warmer.speech.provider != nil else {
            return [
                DoctorCheck(
                    "phrase cache", .warn, "no cloud voice configured: every line is spoken by the local voice",
                    fix: "set ELEVENLABS_API_KEY and the voices, then edge-agent cache warm")
            ]
        }
        return PhraseBook.languages.map { language in
            let texts = warmer.texts.filter { $0.language == language }
            let held = texts.filter { text in
                warmer.speech.key(for: text.text, language: language).map { warmer.cache.holds($0) } ?? false
            }.count
            let percent = texts.isEmpty ? 100 : held * 100 / texts.count
            let detail = "\(percent)% warm in \(language) (\(held) of \(texts.count) phrases)"
            return percent >= 95
                ? DoctorCheck("phrase cache \(language)", .pass, detail)
                : DoctorCheck(
                    "phrase cache \(language)", .warn, detail,
                    fix: "edge-agent cache warm (the agent also warms at start while the cloud is reachable)")
        }
    }

    /// `timedatectl show -p NTPSynchronized --value`: yes, no, or nil when it cannot answer.
    @Sendable public static func timedatectlSynchronized() -> Bool? {
        let tool = "/usr/bin/timedatectl"
        guard FileManager.default.isExecutableFile(atPath: tool) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["show", "-p", "NTPSynchronized", "--value"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        switch output.trimmingCharacters(in: .whitespacesAndNewlines) {
        case "yes": return true
        case "no": return false
        default: return nil
        }
    }
}
