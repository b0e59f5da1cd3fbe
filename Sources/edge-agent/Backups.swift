import ArgumentParser
import EdgeAgent
import Foundation
import LocalStore

/// `edge-agent backup`: an online, checked copy of the database, rotated.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the database while the agent runs, check the copy, and rotate older backups.",
        discussion: """
            The copy goes through SQLite's backup API (a consistent snapshot, never a copy of the live \
            file), passes integrity_check before it is kept, and is written mode 0600 as \
            edge-YYYYMMDD-HHMMSS.sqlite (UTC). The newest backup of each of the last 7 days and of each of \
            the last 4 weeks are kept; older ones are deleted. Run nightly by edge-agent-backup.timer. \
            Exit codes: 0 when the backup was kept, 1 otherwise (nothing half-written is left), 2 for a \
            configuration error.
            """)

    @OptionGroup var options: Cache.Options

    @Option(name: .long, help: "The backup folder (default: backups inside EDGE_DATA_DIR).")
    var to: String?

    func run() async throws {
        // Beside a serving agent: its open recordings are left alone.
        let (report, backups) = try await options.withApp(maintenance: false, failure: "backup failed: ") { app in
            let backups = DatabaseBackups(
                folder: to ?? DatabaseBackups.defaultFolder(dataDirectory: app.configuration.dataDirectory))
            return (try await backups.take(of: app.database), backups)
        }
        print(
            "backup written: \(report.path) (\(report.bytes) bytes); \(report.removed.count) older removed, "
                + "\(backups.backups().count) kept")
    }
}

/// `edge-agent restore FILE`: puts a backup back, with the agent stopped.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup in place of the database; the agent must be stopped.",
        discussion: """
            Refuses a damaged file, a file that is not an edge-agent database, one written by a newer \
            edge-agent, and a data folder in use by a running agent (stop it first: systemctl stop \
            edge-agent). The current database is kept beside it as edge.sqlite.before-restore-<time>. \
            Exit codes: 0 when restored, 1 when refused or failed (the database is then as it was), 2 for \
            a configuration error.
            """)

    @Option(name: .long, help: "The YAML (or JSON) configuration file.")
    var config: String?

    @Argument(help: "The backup file, for example /var/lib/edge-agent/backups/edge-20261203-033000.sqlite.")
    var file: String

    func run() async throws {
        let configuration = try loadConfiguration(config).configuration
        let folder = configuration.dataDirectory
        do {
            let lock = try DataFolderLock(dataDirectory: folder)
            let aside = try DatabaseBackups.restore(file, into: folder)
            // Opening it applies this version's migrations to an older backup, and proves it opens;
            // if it does not, the database it replaced goes back.
            let reservations: Int?
            do {
                let database = try EdgeDatabase(dataDirectory: folder, logger: .init(label: "edge-agent.restore"))
                reservations = try await database.read { db in
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM reservations")
                }
                try database.close()
            } catch {
                if let aside { try DatabaseBackups.putBack(aside, into: folder) }
                throw StoreError(.database, "the backup did not open (\(error)); the previous database was put back")
            }
            withExtendedLifetime(lock) {}
            print(
                "restored \(file) (\(reservations ?? 0) reservations)"
                    + (aside.map { "; the previous database is kept as \($0)" } ?? ""))
        } catch {
            throw fail("restore refused: \(error)", code: 1)
        }
    }
}
