import Foundation
import GRDB
import LocalStore
import Logging
import TestSupport

/// A clock the test sets.
final class FixedClock: WallClock, @unchecked Sendable {
    // @unchecked: `current` is only touched under `lock`.
    private let lock = NSLock()
    private var current: Date

    init(_ date: Date) { current = date }

    func now() -> Date { lock.withLock { current } }
    func set(_ date: Date) { lock.withLock { current = date } }
}

/// 2026-12-01T12:00:00Z, a Tuesday.
let referenceNow = ISO8601DateFormatter().date(from: "2026-12-01T12:00:00Z")!

/// Open 17:00-22:00 Tuesday to Saturday, 12:00-15:00 on Sunday, closed Monday; 20 seats, 15-minute slots,
/// 90-minute meals, parties up to 8.
let testPolicy = ReservationPolicy(
    timeZone: TimeZone(identifier: "America/New_York")!,
    openingHours: [
        2: [.init("17:00-22:00")!], 3: [.init("17:00-22:00")!], 4: [.init("17:00-22:00")!],
        5: [.init("17:00-22:00")!], 6: [.init("17:00-22:00")!], 7: [.init("12:00-15:00")!],
    ],
    closedDates: [LocalDate("2026-12-25")!],
    slotMinutes: 15, seatsPerSlot: 20, maxPartySize: 8, diningMinutes: 90)

/// A fresh database in a temporary folder.
struct TestStore {
    let folder = TemporaryFolder()
    let clock = FixedClock(referenceNow)
    let database: EdgeDatabase

    init() throws {
        database = try EdgeDatabase(
            path: folder.file("edge.sqlite"), clock: clock, logger: Logger(label: "test"))
    }

    var book: ReservationBook { ReservationBook(database: database, policy: testPolicy) }
    var calls: CallLog { CallLog(database: database) }

    func count(_ table: String) async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")! }
    }

    func outbox() async throws -> [OutboxEntry] {
        try await database.read { db in try OutboxEntry.order(Column("id")).fetchAll(db) }
    }
}
