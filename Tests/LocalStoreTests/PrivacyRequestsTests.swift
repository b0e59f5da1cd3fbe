import Foundation
import GRDB
import StoreTestSupport
import Sync
import Synchronization
import Testing

@testable import LocalStore

@Suite("Privacy requests: export and erasure by phone number")
struct PrivacyRequestsTests {
    static let caller = "+15551234567"
    static let other = "+15559876543"

    /// Two callers with a booking, a call (turn, tool execution, metric, recording) and a message each.
    func seeded() async throws -> TestStore {
        let store = try TestStore()
        for (index, phone) in [Self.caller, Self.other].enumerated() {
            _ = try await store.book.create(
                .init(
                    name: index == 0 ? "Ada" : "Grace", phone: phone, partySize: 2, date: LocalDate("2026-12-08")!,
                    time: LocalTime("19:00")!, source: .phoneAgent), actor: "agent")
            let call = try await store.calls.inbound(callSid: "CA1111111111111111111111111111111\(index)", from: phone)
            try await store.calls.append(
                ConversationTurn(
                    id: "turn-\(index)", callID: call.id, sequence: 1, speaker: .caller, text: "a table for two",
                    language: "en", startedAt: 1))
            try await store.calls.record(
                ToolExecution(
                    id: "tool-\(index)", callID: call.id, turnID: "turn-\(index)", tool: "create_reservation",
                    arguments: "{}", result: "{}", status: .ok, startedAt: 2, durationMilliseconds: 3))
            try await store.calls.record([
                CallMetric(id: "metric-\(index)", callID: call.id, name: "turns", value: 1, recordedAt: 5)
            ])
            try await RecordingVault(database: store.database).begin(
                Recording(
                    id: "rec-\(index)", callID: call.id, fileName: "rec-\(index).rec",
                    sealedKey: Data(repeating: 7, count: 80),
                    state: .recording, startedAt: 10))
            try await RecordingVault(database: store.database).finish(
                id: "rec-\(index)", complete: true, durationMilliseconds: 1000, sizeBytes: 100, ciphertextSHA256: "ab")
            _ = try await StaffMessageBoard(database: store.database).leave(
                message: "call me back", callbackPhone: phone, callID: call.id, language: "en")
        }
        return store
    }

    @Test("an export holds everything about the caller and nothing about anyone else, and is audited")
    func export() async throws {
        let store = try await seeded()
        let export = try await PrivacyRequests(database: store.database).export(
            phone: "+1 (555) 123-4567", actor: "technician")
        #expect(export.phone == Self.caller)
        #expect(export.customer?.phone == Self.caller)
        #expect(export.reservations.map(\.name) == ["Ada"])
        #expect(export.calls.count == 1)
        #expect(export.calls.first?.turns.map(\.id) == ["turn-0"])
        #expect(export.calls.first?.toolExecutions.map(\.id) == ["tool-0"])
        #expect(export.calls.first?.metrics.map(\.id) == ["metric-0"])
        #expect(export.calls.first?.recordings.map(\.id) == ["rec-0"])
        #expect(export.messages.map(\.callbackPhone) == [Self.caller])
        let json = String(decoding: try JSONEncoder().encode(export), as: UTF8.self)
        #expect(!json.contains(Self.other) && !json.contains("Grace"))
        #expect(!json.contains("sealed_key"))
        let audit = try await store.database.read { db in
            try AuditEntry.filter(Column("action") == "customer.export").fetchAll(db)
        }
        #expect(audit.count == 1)
        #expect(!(audit.first?.details.contains("5551234567") ?? true))
    }

    @Test(
        "an erasure removes every row about the caller, keeps the other's, and leaves tombstones instead of unsent data"
    )
    func erase() async throws {
        let store = try await seeded()
        final class Destroyed: Sendable { let names = Mutex<[String]>([]) }
        let destroyed = Destroyed()
        let report = try await PrivacyRequests(database: store.database).erase(phone: Self.caller, actor: "technician")
        {
            recordings in destroyed.names.withLock { $0 += recordings.map(\.fileName) }
        }
        var expected = ErasureReport()
        expected.customers = 1
        expected.reservations = 1
        expected.calls = 1
        expected.turns = 1
        expected.recordings = 1
        expected.messages = 1
        #expect(report == expected)
        #expect(destroyed.names.withLock { $0 } == ["rec-0.rec"])
        for table in [
            "customers", "reservations", "calls", "conversation_turns", "tool_executions", "call_metrics", "recordings",
            "staff_messages",
        ] {
            #expect(try await store.count(table) == 1, "\(table) keeps only the other caller's row")
        }
        let everything = try await store.database.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT coalesce(phone, '') FROM reservations UNION ALL SELECT from_number FROM calls
                    UNION ALL SELECT phone FROM customers UNION ALL SELECT coalesce(callback_phone, '') FROM staff_messages
                    """)
        }
        #expect(everything.allSatisfy { $0 == Self.other })

        // Nothing unsent about the caller is left to travel; tombstones go instead.
        let outbox = try await store.outbox().filter { $0.sentAt == nil }
        let tombstones = outbox.filter { $0.operation == .erase }
        #expect(Set(tombstones.map(\.tableName)) == ["customers", "reservations", "calls", "recordings"])
        #expect(tombstones.allSatisfy { !$0.payload.contains("Ada") && !$0.payload.contains("5551234567") })
        let upserts = outbox.filter { $0.operation == .upsert }
        #expect(upserts.allSatisfy { !$0.payload.contains("5551234567") && !$0.payload.contains("Ada") })
        #expect(upserts.contains { $0.tableName == "conversation_turns" }, "the other caller's turn still travels")
        #expect(upserts.filter { $0.tableName == "conversation_turns" }.count == 1)
        let callTombstone = try #require(tombstones.first { $0.tableName == "calls" })
        #expect(callTombstone.version == 2)

        let audit = try await store.database.read { db in
            try AuditEntry.filter(Column("action") == "customer.erase").fetchAll(db)
        }
        #expect(audit.count == 1)
        #expect(!(audit.first?.details.contains("5551234567") ?? true))

        // A second erasure finds nothing and says so.
        let again = try await PrivacyRequests(database: store.database).erase(phone: Self.caller, actor: "technician") {
            _ in
        }
        #expect(again.isEmpty)
    }

    @Test("a file that cannot be destroyed stops the erasure before any row is touched")
    func destroyFails() async throws {
        let store = try await seeded()
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await PrivacyRequests(database: store.database).erase(phone: Self.caller, actor: "technician") { _ in
                throw Refused()
            }
        }
        #expect(try await store.count("recordings") == 2)
        #expect(try await store.count("customers") == 2)
    }

    @Test("a number that is not E.164 is refused with a clear message")
    func badNumber() async throws {
        let store = try TestStore()
        do {
            _ = try await PrivacyRequests(database: store.database).export(phone: "555-1234", actor: "technician")
            Issue.record("accepted")
        } catch let error as PrivacyRequests.RequestError {
            #expect(error.description.contains("E.164"))
        }
    }
}
