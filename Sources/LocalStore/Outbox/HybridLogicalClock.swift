public import GRDB

/// The box's hybrid logical clock, in Unix milliseconds: every change it sends is stamped later than
/// every change it sent or received before, even when the wall clock steps back (an NTP correction)
/// or lags headquarters'. Headquarters stamps its own writes the same way per row, so a change made
/// after seeing another is always ordered after it; only truly concurrent changes are ordered by
/// their wall clocks. Kept in `sync_state` (`hlc`), advanced in the writing transaction.
public enum HybridLogicalClock {
    static let key = "hlc"
    static let offsetKey = "hq_clock_offset_ms"

    /// The stamp for a change made now: the wall clock corrected by headquarters' clock as last
    /// learnt, or one past the last stamp if that is later. So a box whose clock is an hour fast
    /// does not win every conflict for that hour.
    public static func stamp(physical: Int64, in db: Database) throws -> Int64 {
        let offset = try SyncState.value(offsetKey, in: db).flatMap { Int64($0) } ?? 0
        let stamp = max(physical + offset, try last(in: db) + 1)
        try SyncState.set(key, "\(stamp)", at: physical, in: db)
        return stamp
    }

    /// Headquarters' clock minus the box's (ms), as the sync client last measured it.
    public static func setHeadquartersOffset(_ offset: Int64, physical: Int64, in db: Database) throws {
        try SyncState.set(offsetKey, "\(offset)", at: physical, in: db)
    }

    /// A change stamped `remote` arrived: later stamps come after it.
    public static func observe(_ remote: Int64, physical: Int64, in db: Database) throws {
        guard remote > (try last(in: db)) else { return }
        try SyncState.set(key, "\(remote)", at: physical, in: db)
    }

    /// The last stamp issued or seen (0 when none).
    public static func last(in db: Database) throws -> Int64 {
        try SyncState.value(key, in: db).flatMap { Int64($0) } ?? 0
    }
}
