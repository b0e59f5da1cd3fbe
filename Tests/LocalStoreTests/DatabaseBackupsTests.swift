import Foundation
import GRDB
import LocalStore
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("Database backups")
struct DatabaseBackupsTests {
    /// Open every day, room for everyone: every booking the writer makes succeeds.
    static let roomy = ReservationPolicy(
        timeZone: TimeZone(identifier: "UTC")!,
        openingHours: Dictionary(
            uniqueKeysWithValues: (1...7).map { ($0, [ReservationPolicy.Period("10:00-22:00")!]) }),
        closedDates: [], slotMinutes: 15, seatsPerSlot: 100_000, maxPartySize: 8, diningMinutes: 90)

    static func booking(_ index: Int) -> ReservationBook.Request {
        ReservationBook.Request(
            name: "Guest \(index)", phone: nil, partySize: 2, date: LocalDate("2026-12-10")!, time: LocalTime("19:00")!,
            source: .phoneAgent)
    }

    static func reservationIDs(in path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in try String.fetchAll(db, sql: "SELECT id FROM reservations") }
    }

    @Test(
        "a backup taken while bookings are written holds every booking committed before it, restores, and passes integrity_check"
    )
    func backupDuringWrites() async throws {
        let store = try TestStore()
        let book = ReservationBook(database: store.database, policy: Self.roomy)
        let backups = DatabaseBackups(folder: store.folder.file("backups"))
        let committed = Mutex<[String]>([])
        let (started, startedSignal) = AsyncStream<Void>.makeStream()
        let writer = Task {
            for index in 0..<400 {
                let reservation = try await book.create(Self.booking(index), actor: "agent")
                let count = committed.withLock { ids in
                    ids.append(reservation.id)
                    return ids.count
                }
                if count == 50 { startedSignal.yield() }
            }
            startedSignal.finish()
        }
        for await _ in started { break }
        let before = Set(committed.withLock { $0 })
        let report = try await backups.take(of: store.database)
        try await writer.value
        let all = committed.withLock { $0 }
        #expect(all.count == 400)

        // The snapshot: every booking committed before the backup began, and otherwise only a prefix of
        // what followed (the writes are one after another), no half of anything.
        let saved = try Self.reservationIDs(in: report.path)
        #expect(before.isSubset(of: Set(saved)))
        #expect(Set(saved) == Set(all.prefix(saved.count)))
        #expect(report.removed.isEmpty)
        let mode = try FileManager.default.attributesOfItem(atPath: report.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: backups.folder)
        #expect(leftovers == [(report.path as NSString).lastPathComponent])

        // Put back into a fresh data folder: it opens, passes its check and holds exactly the snapshot.
        let elsewhere = TemporaryFolder()
        #expect(try DatabaseBackups.restore(report.path, into: elsewhere.path) == nil)
        let restored = try EdgeDatabase(dataDirectory: elsewhere.path, logger: Logger(label: "test"))
        let check = try await restored.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(check == ["ok"])
        let restoredIDs = try await restored.read { db in try String.fetchAll(db, sql: "SELECT id FROM reservations") }
        #expect(restoredIDs.sorted() == saved.sorted())
        try restored.close()
    }

    @Test("rotation keeps the newest backup of each of the last 7 days and of each of the last 4 weeks")
    func rotation() async throws {
        let store = try TestStore()
        let backups = DatabaseBackups(folder: store.folder.file("backups"))
        try FileManager.default.createDirectory(atPath: backups.folder, withIntermediateDirectories: true)
        let parse = ISO8601DateFormatter()
        func name(_ iso: String) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            return "edge-\(formatter.string(from: parse.date(from: iso)!)).sqlite"
        }
        // Nightly from 2026-10-20 to 2026-12-02, and an extra one early on 2026-12-02.
        var day = parse.date(from: "2026-10-20T03:30:00Z")!
        while day <= parse.date(from: "2026-12-02T03:30:00Z")! {
            let iso = parse.string(from: day)
            #expect(
                FileManager.default.createFile(
                    atPath: (backups.folder as NSString).appendingPathComponent(name(iso)), contents: Data()))
            day += 86_400
        }
        #expect(
            FileManager.default.createFile(
                atPath: (backups.folder as NSString).appendingPathComponent(name("2026-12-02T01:00:00Z")),
                contents: Data()))
        let unrelated = (backups.folder as NSString).appendingPathComponent("notes.txt")
        #expect(FileManager.default.createFile(atPath: unrelated, contents: Data("keep me".utf8)))

        let report = try await backups.take(of: store.database, now: parse.date(from: "2026-12-03T03:30:00Z")!)
        let kept = Set(try FileManager.default.contentsOfDirectory(atPath: backups.folder))
        let expected: Set<String> = Set(
            [
                "2026-12-03T03:30:00Z", "2026-12-02T03:30:00Z", "2026-12-01T03:30:00Z", "2026-11-30T03:30:00Z",
                "2026-11-29T03:30:00Z", "2026-11-28T03:30:00Z", "2026-11-27T03:30:00Z",
                // The weeks of 16 and 9 November (ISO weeks start on Monday): their Sundays.
                "2026-11-22T03:30:00Z", "2026-11-15T03:30:00Z",
            ].map(name)
        ).union(["notes.txt"])
        #expect(kept == expected)
        #expect(report.removed.count == 45 - 8)
        #expect(backups.backups().count == 9)
    }

    @Test("a damaged file, a foreign database or a held data folder is refused, and the database stays as it was")
    func refusals() async throws {
        let store = try TestStore()
        _ = try await ReservationBook(database: store.database, policy: Self.roomy).create(
            Self.booking(1), actor: "agent")
        let report = try await DatabaseBackups(folder: store.folder.file("backups")).take(of: store.database)
        try store.database.close()
        let live = store.folder.file("edge.sqlite")
        let original = try Data(contentsOf: URL(fileURLWithPath: live))

        let truncated = store.folder.file("truncated.sqlite")
        let whole = try Data(contentsOf: URL(fileURLWithPath: report.path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
        let garbage = store.folder.file("garbage.sqlite")
        try Data("not a database at all".utf8).write(to: URL(fileURLWithPath: garbage))
        let foreign = store.folder.file("foreign.sqlite")
        let foreignQueue = try DatabaseQueue(path: foreign)
        try await foreignQueue.write { db in try db.execute(sql: "CREATE TABLE t (x)") }
        try foreignQueue.close()

        for (file, expected) in [
            (truncated, StoreError.Code.corrupt), (garbage, .corrupt), (foreign, .corrupt),
            (store.folder.file("missing.sqlite"), .cannotOpen),
        ] {
            #expect(throws: StoreError.self) { try DatabaseBackups.restore(file, into: store.folder.path) }
            do {
                try DatabaseBackups.restore(file, into: store.folder.path)
            } catch let error as StoreError {
                #expect(error.code == expected, "\(file): \(error)")
                #expect(error.message.contains("nothing was changed") || error.code == .cannotOpen, "\(error)")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: live)) == original)
        let names = try FileManager.default.contentsOfDirectory(atPath: store.folder.path)
        #expect(!names.contains { $0.contains("before-restore") || $0.hasSuffix(".restoring") })

        // A running agent holds the data folder: restore must not take it.
        let running = try DataFolderLock(dataDirectory: store.folder.path)
        #expect(throws: StoreError.self) { try DataFolderLock(dataDirectory: store.folder.path) }
        withExtendedLifetime(running) {}
    }

    @Test("restoring puts the backup in place and keeps the database it replaced")
    func restoreReplaces() async throws {
        let store = try TestStore()
        let book = ReservationBook(database: store.database, policy: Self.roomy)
        let first = try await book.create(Self.booking(1), actor: "agent")
        let report = try await DatabaseBackups(folder: store.folder.file("backups")).take(of: store.database)
        let later = try await book.create(Self.booking(2), actor: "agent")
        try store.database.close()

        let aside = try #require(try DatabaseBackups.restore(report.path, into: store.folder.path))
        #expect(try Self.reservationIDs(in: store.folder.file("edge.sqlite")) == [first.id])
        #expect(Set(try Self.reservationIDs(in: aside)) == [first.id, later.id])
    }

    @Test("a backup folder that cannot be made is a clear error and writes nothing")
    func unusableFolder() async throws {
        let store = try TestStore()
        let blocker = store.folder.file("backups")
        #expect(
            FileManager.default.createFile(atPath: blocker, contents: Data("a file where the folder should be".utf8)))
        await #expect {
            try await DatabaseBackups(folder: blocker).take(of: store.database)
        } throws: { error in
            (error as? StoreError)?.code == .cannotOpen
                && (error as? StoreError)?.message.contains("cannot create the backup folder") == true
        }
        #expect(try String(contentsOfFile: blocker, encoding: .utf8) == "a file where the folder should be")
    }
}
