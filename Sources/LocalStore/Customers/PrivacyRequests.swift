import Foundation
import GRDB
public import Sync

/// Everything the box holds about one caller, as `customers export` prints it.
public struct CustomerExport: Encodable, Sendable {
    /// A call with what was said and done in it.
    public struct CallRecord: Encodable, Sendable {
        public var call: Call
        public var turns: [ConversationTurn]
        public var toolExecutions: [ToolExecution]
        public var metrics: [CallMetric]
        /// The recordings' metadata; the audio is encrypted to the owner (`recordings decrypt`).
        public var recordings: [RecordingSummary]

        enum CodingKeys: String, CodingKey {
            case call
            case turns
            case toolExecutions = "tool_executions"
            case metrics
            case recordings
        }
    }

    /// A recording without its sealed key.
    public struct RecordingSummary: Encodable, Sendable {
        public var id: String
        public var state: Recording.State
        public var source: Recording.Source
        public var startedAt: Int64
        public var durationMilliseconds: Int?
        public var sizeBytes: Int?

        enum CodingKeys: String, CodingKey {
            case id
            case state
            case source
            case startedAt = "started_at"
            case durationMilliseconds = "duration_ms"
            case sizeBytes = "size_bytes"
        }
    }

    public var phone: String
    /// When the export was made (Unix ms, UTC).
    public var exportedAt: Int64
    public var customer: Customer?
    public var reservations: [Reservation]
    public var calls: [CallRecord]
    public var messages: [StaffMessage]

    enum CodingKeys: String, CodingKey {
        case phone
        case exportedAt = "exported_at"
        case customer
        case reservations
        case calls
        case messages
    }
}

/// What an erasure removed, by kind (counts only: it holds no personal data).
public struct ErasureReport: Sendable, Equatable, Codable {
    public var customers = 0
    public var reservations = 0
    public var calls = 0
    public var turns = 0
    public var recordings = 0
    public var messages = 0

    public init() {}

    /// Nothing was held about the caller.
    public var isEmpty: Bool { self == ErasureReport() }
}

/// Privacy requests about one caller, by phone number: an export of everything held, and an erasure
/// that removes it (recordings included) and queues tombstones for headquarters. Both are in the audit
/// log, without the phone number.
///
/// What an erasure removes: the customer profile; every reservation made with that number or for that
/// profile; every call from or to that number with its turns, tool executions and metrics; the
/// messages left in those calls or with that call-back number; and those calls' recordings (the
/// caller deletes the files, see ``erase(phone:actor:destroyFiles:)``). Unsent outbox changes to those
/// rows are dropped, so the data never leaves the box, and one `erase` change per customer,
/// reservation, call and recording is queued instead; headquarters removes a call's turns, tool
/// executions and metrics with the call.
public struct PrivacyRequests: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// Why a request was refused.
    public struct RequestError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    static func normalized(_ phone: String) throws -> String {
        guard let e164 = PhoneNumber.e164(phone) else {
            throw RequestError(description: "the phone number must be in E.164 form, for example +15551234567")
        }
        return e164
    }

    /// Everything held about the caller at `phone`; the export itself is audited.
    public func export(phone: String, actor: String) async throws -> CustomerExport {
        let phone = try Self.normalized(phone)
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            let held = try Held(phone: phone, in: db)
            let calls = try held.calls.map { call in
                CustomerExport.CallRecord(
                    call: call,
                    turns: try ConversationTurn.filter(Column("call_id") == call.id).order(Column("sequence"))
                        .fetchAll(db),
                    toolExecutions: try ToolExecution.filter(Column("call_id") == call.id)
                        .order(Column("started_at")).fetchAll(db),
                    metrics: try CallMetric.filter(Column("call_id") == call.id).order(Column("recorded_at"))
                        .fetchAll(db),
                    recordings: held.recordings.filter { $0.callID == call.id }.map {
                        .init(
                            id: $0.id, state: $0.state, source: $0.source, startedAt: $0.startedAt,
                            durationMilliseconds: $0.durationMilliseconds, sizeBytes: $0.sizeBytes)
                    })
            }
            try AuditLog.record(
                actor: actor, action: "customer.export", entity: Customer.databaseTableName,
                entityID: held.customer?.id, details: held.counts, at: now, in: db)
            return CustomerExport(
                phone: phone, exportedAt: now, customer: held.customer, reservations: held.reservations, calls: calls,
                messages: held.messages)
        }
    }

    /// Erases everything held about the caller at `phone` in one transaction, after `destroyFiles` has
    /// destroyed the files of the recordings about to be erased (so the sealed keys in their headers are
    /// gone too). Returns what was removed; an empty report when nothing was held (still audited).
    public func erase(
        phone: String, actor: String, destroyFiles: @Sendable ([Recording]) throws -> Void
    ) async throws -> ErasureReport {
        let phone = try Self.normalized(phone)
        let recordings = try await database.read { db in try Held(phone: phone, in: db).recordings }
        try destroyFiles(recordings)
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            // Read again inside the transaction: a call may have ended (and been recorded) meanwhile.
            let held = try Held(phone: phone, in: db)
            var report = ErasureReport()
            report.turns = try ConversationTurn.filter(held.calls.map(\.id).contains(Column("call_id"))).fetchCount(db)
            var tombstones: [(SyncTable, String, Int64)] = []
            for message in held.messages { try message.delete(db) }
            for recording in held.recordings {
                try db.execute(
                    sql: "DELETE FROM twilio_recording_imports WHERE recording_id = ?", arguments: [recording.id])
                try recording.delete(db)
                tombstones.append((.recordings, recording.id, recording.version + 1))
            }
            for reservation in held.reservations {
                try reservation.delete(db)
                tombstones.append((.reservations, reservation.id, reservation.version + 1))
            }
            for call in held.calls {
                // Turns, tool executions and metrics go with the call (ON DELETE CASCADE).
                try call.delete(db)
                tombstones.append((.calls, call.id, call.version + 1))
            }
            if let customer = held.customer {
                try customer.delete(db)
                tombstones.append((.customers, customer.id, customer.version + 1))
            }
            for (table, rowID, version) in tombstones {
                try db.execute(
                    sql: "DELETE FROM outbox WHERE sent_at IS NULL AND table_name = ? AND row_id = ?",
                    arguments: [table.rawValue, rowID])
                try Outbox.enqueue(
                    SyncChange(
                        table: table, rowID: rowID, operation: .erase, version: version, changedAt: now, row: nil),
                    in: db)
            }
            // The children of erased calls must not travel either.
            let callIDs = held.calls.map(\.id)
            for table in [SyncTable.conversationTurns, .toolExecutions, .callMetrics] {
                try db.execute(
                    sql: """
                        DELETE FROM outbox WHERE sent_at IS NULL AND table_name = ?
                        AND json_extract(payload, '$.row.call_id') IN (SELECT value FROM json_each(?))
                        """,
                    arguments: [table.rawValue, String(decoding: try JSONEncoder().encode(callIDs), as: UTF8.self)])
            }
            report.customers = held.customer == nil ? 0 : 1
            report.reservations = held.reservations.count
            report.calls = held.calls.count
            report.recordings = held.recordings.count
            report.messages = held.messages.count
            try AuditLog.record(
                actor: actor, action: "customer.erase", entity: Customer.databaseTableName,
                entityID: held.customer?.id, details: held.counts, at: now, in: db)
            return report
        }
    }

    /// The rows about one caller.
    struct Held {
        var customer: Customer?
        var reservations: [Reservation]
        var calls: [Call]
        var recordings: [Recording]
        var messages: [StaffMessage]

        init(phone: String, in db: Database) throws {
            customer = try Customer.filter(Column("phone") == phone).fetchOne(db)
            var reservationFilter = Column("phone") == phone
            if let customer { reservationFilter = reservationFilter || Column("customer_id") == customer.id }
            reservations = try Reservation.filter(reservationFilter).order(Column("starts_at")).fetchAll(db)
            calls = try Call.filter(Column("from_number") == phone || Column("to_number") == phone)
                .order(Column("started_at")).fetchAll(db)
            let callIDs = calls.map(\.id)
            recordings = try Recording.filter(callIDs.contains(Column("call_id"))).order(Column("started_at"))
                .fetchAll(db)
            messages = try StaffMessage.filter(
                callIDs.contains(Column("call_id")) || Column("callback_phone") == phone
            ).order(Column("created_at")).fetchAll(db)
        }

        /// Counts for the audit log.
        var counts: [String: String] {
            [
                "customer": customer == nil ? "0" : "1", "reservations": "\(reservations.count)",
                "calls": "\(calls.count)", "recordings": "\(recordings.count)", "messages": "\(messages.count)",
            ]
        }
    }
}
