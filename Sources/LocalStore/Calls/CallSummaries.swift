public import Foundation
import GRDB
public import Sync

/// Rolls a day of calls up into one ``DailyCallSummary`` row (`daily_call_summaries`), which the
/// outbox carries to headquarters. Rolled up again as each call of the day ends; a new version is
/// written only when a figure changed.
public struct CallSummaries: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// Rolls up `date` (in `timeZone`) and returns the summary as stored.
    @discardableResult
    public func rollUp(date: LocalDate, timeZone: TimeZone) async throws -> DailyCallSummary {
        let midnight = LocalTime(minutesSinceMidnight: 0)!
        let start = date.instant(at: midnight, in: timeZone).unixMilliseconds
        let end = date.adding(days: 1).instant(at: midnight, in: timeZone).unixMilliseconds
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            let calls = "SELECT id FROM calls WHERE started_at >= \(start) AND started_at < \(end)"
            var summary = DailyCallSummary(id: date.description)
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT coalesce(outcome, 'none') AS outcome, count(*) AS n, sum(coalesce(duration_seconds, 0)) AS s
                    FROM calls WHERE started_at >= ? AND started_at < ? GROUP BY 1
                    """, arguments: [start, end])
            {
                let count: Int = row["n"]
                summary.calls += count
                summary.talkSeconds += row["s"] as Int
                switch row["outcome"] as String {
                case "reservation_created": summary.reservationsCreated += count
                case "reservation_changed": summary.reservationsChanged += count
                case "reservation_cancelled": summary.reservationsCancelled += count
                case "message_taken": summary.messagesTaken += count
                case "transferred": summary.transfers += count
                case "information": summary.informationOnly += count
                default: summary.noConversation += count
                }
            }
            summary.keypadBookings =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM reservations WHERE source = 'keypad' AND call_id IN (\(calls))") ?? 0
            summary.meanResponseLatencyMilliseconds = try Double.fetchOne(
                db,
                sql:
                    "SELECT avg(value) FROM call_metrics WHERE name = 'mean_response_latency_ms' AND call_id IN (\(calls))"
            )
            summary.worstFrameLatenessMilliseconds = try Double.fetchOne(
                db,
                sql:
                    "SELECT max(value) FROM call_metrics WHERE name = 'worst_frame_lateness_ms' AND call_id IN (\(calls))"
            )
            summary.escalations =
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT count(*) FROM call_metrics WHERE name = 'escalations' AND value > 0 AND call_id IN (\(calls))"
                ) ?? 0
            let stored = try Self.stored(date.description, in: db)
            if let stored, stored.sameFigures(as: summary) { return stored }
            summary.version = (stored?.version ?? 0) + 1
            summary.updatedAt = now
            try Self.table.save(summary, id: summary.id, version: summary.version, at: now, in: db)
            try Outbox.enqueueUpsert(.dailyCallSummary(summary), at: now, in: db)
            return summary
        }
    }

    /// The stored summary of `day` (`YYYY-MM-DD`).
    public func summary(of day: String) async throws -> DailyCallSummary? {
        try await database.read { db in try Self.stored(day, in: db) }
    }

    static let table = JSONRowTable<DailyCallSummary>(name: "daily_call_summaries", timestampColumn: "updated_at")

    static func stored(_ day: String, in db: Database) throws -> DailyCallSummary? {
        try table.fetch(day, in: db)
    }
}

extension CallLog {
    /// Rolls up the day (in `timeZone`) that the instant `startedAt` (Unix ms) falls on.
    public func rollUpDay(containing startedAt: Int64, timeZone: TimeZone) async throws {
        try await CallSummaries(database: database).rollUp(
            date: LocalDate(Date(unixMilliseconds: startedAt), in: timeZone), timeZone: timeZone)
    }
}
