import Foundation
import GRDB
import Sync
import Testing

@testable import LocalStore

@Suite("Migrations")
struct MigrationTests {
    static let specTables = [
        "calls", "conversation_turns", "tool_executions", "reservations", "customers", "call_metrics", "menu_items",
        "menu_item_translations", "recordings", "phrase_cache", "outbox", "audit_log", "staff_messages",
    ]

    @Test("an empty database gets every table of the interface spec, in WAL mode with FULL sync")
    func emptyDatabase() async throws {
        let store = try TestStore()
        let (tables, journal, synchronous, foreignKeys) = try await store.database.pool.read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"),
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                try Bool.fetchOne(db, sql: "PRAGMA foreign_keys")
            )
        }
        for table in Self.specTables {
            #expect(tables.contains(table), "missing table \(table)")
        }
        #expect(journal == "wal")
        #expect(synchronous == 2)  // FULL
        #expect(foreignKeys == true)
        // Every table has an `id` primary key.
        try await store.database.read { db in
            for table in Self.specTables {
                let primaryKey = try db.primaryKey(table)
                #expect(primaryKey.columns == ["id"], "\(table)")
            }
        }
    }

    @Test("the hot queries have their indexes")
    func indexes() async throws {
        let store = try TestStore()
        let indexes = try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        }
        for index in [
            "reservations_by_start", "reservations_by_phone", "calls_by_start", "outbox_unsent",
            "phrase_cache_by_last_hit",
        ] {
            #expect(indexes.contains(index), "missing index \(index)")
        }
        let plan = try await store.database.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 100"
            ).map { $0["detail"] as String }
        }
        #expect(plan.joined().contains("outbox_unsent"))
    }

    @Test("an already-migrated database opens again without change and keeps its rows")
    func alreadyMigrated() async throws {
        let store = try TestStore()
        _ = try await store.book.create(
            .init(
                name: "Ada", phone: nil, partySize: 2, date: LocalDate("2026-12-02")!, time: LocalTime("19:00")!,
                source: .staff), actor: "test")
        let applied = try await store.database.read { db in try EdgeDatabase.migrator.appliedIdentifiers(db) }
        try store.database.close()

        let reopened = try EdgeDatabase(
            path: store.folder.file("edge.sqlite"), clock: store.clock, logger: .init(label: "test"))
        let (appliedAgain, count) = try await reopened.read { db in
            (try EdgeDatabase.migrator.appliedIdentifiers(db), try Reservation.fetchCount(db))
        }
        #expect(
            applied == [
                "v1 schema", "v2 staff messages", "v3 phrase cache counters", "v4 twilio recordings", "v5 sync state",
                "v6 recording uploads", "v7 site settings", "v8 overbooked slots",
                "v9 daily call summaries", "v10 admin tokens", "v11 append-only audit log",
                "v12 menu item overrides", "v13 caller frustration", "v14 local calls", "v15 voice choices",
                "v16 text confirmations",
            ])
        #expect(appliedAgain == applied)
        #expect(count == 1)
    }

    @Test("CHECK constraints refuse unknown statuses and NOT NULL refuses missing names")
    func constraints() async throws {
        let store = try TestStore()
        await #expect(throws: (any Error).self) {
            try await store.database.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO reservations (id, name, party_size, starts_at, duration_minutes, status, source,
                            created_at, updated_at) VALUES ('r1', 'Ada', 2, 0, 90, 'maybe', 'staff', 0, 0)
                        """)
            }
        }
        await #expect(throws: (any Error).self) {
            try await store.database.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO reservations (id, party_size, starts_at, duration_minutes, status, source,
                            created_at, updated_at) VALUES ('r2', 2, 0, 90, 'confirmed', 'staff', 0, 0)
                        """)
            }
        }
        await #expect(throws: (any Error).self) {
            try await store.database.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO conversation_turns (id, call_id, sequence, speaker, text, started_at)
                        VALUES ('t1', 'no-such-call', 1, 'caller', 'hello', 0)
                        """)
            }
        }
        #expect(try await store.count("reservations") == 0)
        #expect(try await store.count("conversation_turns") == 0)
    }

    @Test("a database from a newer version is refused, not downgraded")
    func newerSchema() async throws {
        let store = try TestStore()
        try await store.database.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99 from the future')")
        }
        try store.database.close()
        #expect {
            try EdgeDatabase(path: store.folder.file("edge.sqlite"), logger: .init(label: "test"))
        } throws: { ($0 as? StoreError)?.code == .newerSchema }
    }
}
