import Foundation
import GRDB
import Testing

@testable import LocalStore

@Suite("Audit log: append-only")
struct AuditLogTests {
    func expectRefused(_ sql: String, in store: TestStore) async {
        await #expect {
            try await store.database.write { db in try db.execute(sql: sql) }
        } throws: { error in
            "\(error)".contains("audit_log is append-only")
        }
    }

    @Test("UPDATE and DELETE of an entry are refused with 'audit_log is append-only'; INSERT works")
    func appendOnly() async throws {
        let store = try TestStore()
        try await store.database.write { db in
            try AuditLog.record(actor: "cli", action: "test.one", entity: "test", entityID: "1", at: 1, in: db)
            try AuditLog.record(actor: "cli", action: "test.two", entity: "test", entityID: "2", at: 2, in: db)
        }
        await expectRefused("UPDATE audit_log SET actor = 'someone else'", in: store)
        await expectRefused("UPDATE audit_log SET details = '{}' WHERE id = 1", in: store)
        await expectRefused("DELETE FROM audit_log WHERE id = 1", in: store)
        await expectRefused("DELETE FROM audit_log", in: store)
        // Through the record type too.
        await #expect {
            try await store.database.write { db in _ = try AuditEntry.deleteAll(db) }
        } throws: { "\($0)".contains("audit_log is append-only") }

        try await store.database.write { db in
            try db.execute(
                sql: "INSERT INTO audit_log (at, actor, action, entity) VALUES (3, 'cli', 'test.three', 'test')")
        }
        let actions = try await store.database.read { db in try AuditLog.recent(limit: 10, in: db).map(\.action) }
        #expect(actions == ["test.three", "test.two", "test.one"])
        let latest = try await store.database.read { db in try AuditLog.recent(limit: 2, in: db) }
        #expect(latest.map(\.id) == [3, 2])
        #expect(latest.map(\.actor) == ["cli", "cli"])
    }

    @Test("a read of personal data is noted as read.<what>")
    func recordRead() async throws {
        let store = try TestStore()
        try await store.database.write { db in
            try AuditLog.recordRead(
                actor: "token:abc", entity: "calls", entityID: "call-1", what: "transcript", at: 42, in: db)
        }
        let entry = try await store.database.read { db in try AuditLog.recent(limit: 1, in: db).first }
        #expect(
            entry
                == AuditEntry(
                    id: 1, at: 42, actor: "token:abc", action: "read.transcript", entity: "calls", entityID: "call-1"))
    }

    @Test("a privacy erasure still works, and adds its own entry without touching older ones")
    func erasureStillWorks() async throws {
        let store = try await PrivacyRequestsTests().seeded()
        let before = try await store.database.read { db in try AuditLog.recent(limit: 1000, in: db) }
        let report = try await PrivacyRequests(database: store.database).erase(
            phone: PrivacyRequestsTests.caller, actor: "technician", destroyFiles: { _ in })
        #expect(report.calls == 1 && report.reservations == 1 && report.messages == 1 && report.recordings == 1)
        let after = try await store.database.read { db in try AuditLog.recent(limit: 1000, in: db) }
        #expect(after.count == before.count + 1)
        #expect(after.first?.action == "customer.erase")
        #expect(Array(after.dropFirst()) == before)
        // No entry names the erased caller.
        #expect(!after.map(\.details).joined().contains("5551234567"))
        #expect(!after.map(\.details).joined().contains("Ada"))
    }
}
