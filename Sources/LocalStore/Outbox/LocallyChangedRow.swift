import GRDB
import Sync

/// A synced row the box itself changes (a call, a customer, a reservation): every change takes the
/// next version and the time, and goes to headquarters in the transaction that made it.
protocol LocallyChangedRow: PersistableRecord {
    var version: Int64 { get set }
    var updatedAt: Int64 { get set }
    /// The row as the outbox carries it.
    var outboxRow: SyncRow { get }
}

extension LocallyChangedRow {
    /// Saves a change made to this row, in `db`'s transaction: the next version, stamped `now`,
    /// written in place and queued for headquarters.
    mutating func saveChange(at now: Int64, in db: Database) throws {
        version += 1
        updatedAt = now
        try update(db)
        try Outbox.enqueueUpsert(outboxRow, at: now, in: db)
    }
}

extension Call: LocallyChangedRow {
    var outboxRow: SyncRow { .call(self) }
}

extension Customer: LocallyChangedRow {
    var outboxRow: SyncRow { .customer(self) }
}

extension Reservation: LocallyChangedRow {
    var outboxRow: SyncRow { .reservation(self) }
}
