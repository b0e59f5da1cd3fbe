import DurableFiles
public import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// Backups of the box's database, and putting one back.
///
/// A backup is an online copy through SQLite's backup API (a consistent snapshot while calls go on
/// writing, never a copy of the live file), checked with `integrity_check` before it is kept,
/// written mode 0600 as `edge-YYYYMMDD-HHMMSS.sqlite` (UTC) in the backup folder, then rotated: the
/// newest backup of each of the last 7 days that have one, and of each of the last 4 weeks, are kept.
public struct DatabaseBackups: Sendable {
    /// Where backups are written: `<data>/backups` unless configured.
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// The default backup folder of `dataDirectory`.
    public static func defaultFolder(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("backups")
    }

    /// What one backup did.
    public struct Report: Sendable, Equatable {
        /// The new backup's path.
        public let path: String
        public let bytes: Int
        /// Older backups deleted by the rotation.
        public let removed: [String]
    }

    // MARK: Taking a backup

    /// Copies `database` into a new backup file, checks the copy, then rotates the folder.
    ///
    /// The copy is written under a temporary name and renamed only once it passes its integrity
    /// check, so a full disk or a crash leaves no half-written backup behind, and never touches the
    /// older ones.
    public func take(of database: EdgeDatabase, now: Date = Date()) async throws -> Report {
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError(.cannotOpen, "cannot create the backup folder \(folder): check the path and its owner")
        }
        Self.matchOwner(of: folder, to: database.path)
        let name = Self.fileName(at: now)
        let path = (folder as NSString).appendingPathComponent(name)
        let partial = (folder as NSString).appendingPathComponent(".\(name).partial")
        try? FileManager.default.removeItem(atPath: partial)
        guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600])
        else {
            throw StoreError(.cannotOpen, "cannot write in the backup folder \(folder): check its owner and free space")
        }
        do {
            let copy = try DatabaseQueue(path: partial)
            // The backup API is synchronous: it runs on a thread of its own, not the caller's executor.
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                DispatchQueue.global(qos: .utility).async {
                    continuation.resume(with: Result { try database.pool.backup(to: copy) })
                }
            }
            try await copy.write { db in
                let problems = try String.fetchAll(db, sql: "PRAGMA integrity_check(1)")
                guard problems == ["ok"] else {
                    throw StoreError(.corrupt, "the backup copy failed its integrity check; nothing was kept")
                }
            }
            try copy.close()
            // A second backup within the same second replaces the first: it is the newer snapshot.
            try DurableFile.install(partial, at: path)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            if let error = error as? StoreError { throw error }
            if let error = error as? DatabaseError { throw StoreError.from(error, path: path) }
            throw StoreError(.ioError, "the backup could not be written to \(folder): \(error)")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        Self.matchOwner(of: path, to: database.path)
        let removed = rotate(keeping: path)
        return Report(path: path, bytes: bytes, removed: removed)
    }

    /// The backups in the folder, newest first.
    public func backups() -> [(path: String, takenAt: Date)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name in
            Self.date(ofFileName: name).map { ((folder as NSString).appendingPathComponent(name), $0) }
        }
        .sorted { $0.takenAt > $1.takenAt }
    }

    /// Deletes the backups the rotation does not keep; returns their paths.
    func rotate(keeping new: String) -> [String] {
        let all = backups()
        let kept = Self.kept(all.map(\.takenAt))
        var removed: [String] = []
        // The backup just written is never removed, even when a wrong clock dated it in the past.
        for backup in all where !kept.contains(backup.takenAt) && backup.path != new {
            try? FileManager.default.removeItem(atPath: backup.path)
            removed.append(backup.path)
        }
        return removed
    }

    /// Which of `dates` the rotation keeps: the newest of each of the 7 newest days, and the newest
    /// of each of the 4 newest ISO weeks (UTC).
    static func kept(_ dates: [Date]) -> Set<Date> {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func newestPer<Key: Hashable>(_ key: (Date) -> Key, limit: Int) -> [Date] {
            var seen: [Key] = []
            var newest: [Date] = []
            for date in dates.sorted(by: >) {
                let group = key(date)
                guard !seen.contains(group) else { continue }
                guard seen.count < limit else { break }
                seen.append(group)
                newest.append(date)
            }
            return newest
        }
        let daily = newestPer({ calendar.dateComponents([.year, .month, .day], from: $0) }, limit: 7)
        let weekly = newestPer({ calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0) }, limit: 4)
        return Set(daily + weekly)
    }

    // MARK: Names

    static func fileName(at date: Date) -> String {
        "edge-\(formatter.string(from: date)).sqlite"
    }

    static func date(ofFileName name: String) -> Date? {
        guard name.hasPrefix("edge-"), name.hasSuffix(".sqlite") else { return nil }
        return formatter.date(from: String(name.dropFirst(5).dropLast(7)))
    }

    private static var formatter: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter
    }

    /// Run as root (a technician with sudo), gives `path` the owner of `reference` (the agent's
    /// database or data folder), so the agent, which runs as its own user, can still use it.
    static func matchOwner(of path: String, to reference: String) {
        guard geteuid() == 0 else { return }
        var owner = stat()
        guard stat(reference, &owner) == 0 else { return }
        _ = chown(path, owner.st_uid, owner.st_gid)
    }

    /// Flushes the file at `path` to disk.
    private static func flush(_ path: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.synchronize()
    }

    // MARK: Restoring

    /// Checks that `path` is a sound backup of this program's database: a SQLite file that passes
    /// `integrity_check` and whose schema is not newer than this program's.
    public static func verify(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.cannotOpen, "no backup at \(path)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            try queue.read { db in
                guard try String.fetchAll(db, sql: "PRAGMA integrity_check(1)") == ["ok"] else {
                    throw StoreError(
                        .corrupt, "the backup \(path) is damaged (integrity check failed); nothing was changed")
                }
                guard try db.tableExists("grdb_migrations") else {
                    throw StoreError(.corrupt, "\(path) is not an edge-agent database; nothing was changed")
                }
                if try EdgeDatabase.migrator.hasBeenSuperseded(db) {
                    throw StoreError(
                        .newerSchema,
                        "the backup \(path) was written by a newer edge-agent; install that version to restore it")
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "the backup \(path) is damaged or not a database; nothing was changed")
        }
    }

    /// Puts the backup at `path` in place of the database of `dataDirectory`, which must not be open
    /// (the caller holds the ``DataFolderLock``). The current database is kept beside it as
    /// `edge.sqlite.before-restore-<time>` and put back if anything fails; returns that path (nil when
    /// there was no database).
    @discardableResult
    public static func restore(_ path: String, into dataDirectory: String, now: Date = Date()) throws -> String? {
        try verify(path)
        let live = (dataDirectory as NSString).appendingPathComponent(EdgeDatabase.fileName)
        let manager = FileManager.default
        let stamp = formatter.string(from: now)
        let aside = live + ".before-restore-" + stamp
        let partial = live + ".restoring"
        try? manager.removeItem(atPath: partial)
        do {
            try manager.copyItem(atPath: path, toPath: partial)
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: partial)
            matchOwner(of: partial, to: dataDirectory)
            try flush(partial)
        } catch {
            try? manager.removeItem(atPath: partial)
            throw StoreError(
                .ioError, "cannot copy the backup into \(dataDirectory): check free space; nothing was changed")
        }
        var movedAside: [(String, String)] = []
        do {
            for suffix in ["", "-wal", "-shm"] where manager.fileExists(atPath: live + suffix) {
                try manager.moveItem(atPath: live + suffix, toPath: aside + suffix)
                movedAside.append((aside + suffix, live + suffix))
            }
            try manager.moveItem(atPath: partial, toPath: live)
        } catch {
            try? manager.removeItem(atPath: partial)
            for (from, to) in movedAside { try? manager.moveItem(atPath: from, toPath: to) }
            throw StoreError(
                .ioError, "the backup could not be put in place (\(error)); the database was left as it was")
        }
        return movedAside.isEmpty ? nil : aside
    }

    /// Undoes ``restore(_:into:now:)`` when the restored database then fails to open: the database
    /// kept aside as `aside` goes back in place (the restored copy is removed).
    public static func putBack(_ aside: String, into dataDirectory: String) throws {
        let live = (dataDirectory as NSString).appendingPathComponent(EdgeDatabase.fileName)
        let manager = FileManager.default
        for suffix in ["", "-wal", "-shm"] {
            try? manager.removeItem(atPath: live + suffix)
            if manager.fileExists(atPath: aside + suffix) {
                try manager.moveItem(atPath: aside + suffix, toPath: live + suffix)
            }
        }
    }
}
