import Foundation
import GRDB
public import Sync

/// Calls and everything recorded about them: status, turns, tool executions and metrics.
public struct CallLog: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// What Twilio told us of a new call.
    public struct IncomingCall: Sendable {
        public var callSid: String
        public var from: String
        public var to: String
        public var direction: String
        public var status: Call.Status

        public init(callSid: String, from: String, to: String, direction: String, status: Call.Status) {
            self.callSid = callSid
            self.from = from
            self.to = to
            self.direction = direction
            self.status = status
        }
    }

    /// Records a call the first time its CallSid is seen; a repeated webhook returns the existing row
    /// and `created == false`, writing nothing.
    public func recordIncoming(_ incoming: IncomingCall) async throws
        -> (call: Call, created: Bool)
    {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            if let existing = try Call.filter(Column("call_sid") == incoming.callSid).fetchOne(db) {
                return (existing, false)
            }
            let call = try Self.insert(incoming, at: now, in: db)
            return (call, true)
        }
    }

    /// Records a call placed through the box's own headset (`edge-agent talk`): no Twilio, no caller
    /// number, `source = 'local'`, in progress until its conversation is recorded.
    public func recordLocal() async throws -> Call {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            let id = UUID().uuidString.lowercased()
            let call = Call(
                id: id, callSid: "local-" + id, fromNumber: "local", toNumber: "local", direction: "inbound",
                status: .inProgress, startedAt: now, source: "local", updatedAt: now)
            try call.insert(db)
            try Outbox.enqueueUpsert(.call(call), at: now, in: db)
            return call
        }
    }

    /// Marks a local call ended (Twilio's status callback does this for a phone call).
    public func endLocal(callID: String, durationSeconds: Int) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            guard var call = try Call.fetchOne(db, key: callID), call.source == "local" else { return }
            call.status = .completed
            call.endedAt = now
            call.durationSeconds = max(0, durationSeconds)
            try call.saveChange(at: now, in: db)
        }
    }

    /// Applies a status callback in one transaction, recording the call first if it was never seen.
    /// Statuses only move forward (queued, initiated, ringing, in progress, then a terminal one), so
    /// callbacks that Twilio delivers out of order never undo a later state.
    public func applyStatus(_ incoming: IncomingCall, durationSeconds: Int?) async throws -> Call {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            guard var call = try Call.filter(Column("call_sid") == incoming.callSid).fetchOne(db) else {
                let call = try Self.insert(incoming, at: now, in: db)
                guard incoming.status.isTerminal else { return call }
                return try Self.advance(call, to: incoming.status, durationSeconds: durationSeconds, at: now, in: db)
            }
            call = try Self.advance(call, to: incoming.status, durationSeconds: durationSeconds, at: now, in: db)
            return call
        }
    }

    /// Moves a known call's status forward; returns nil for an unknown CallSid.
    @discardableResult
    public func updateStatus(callSid: String, status: Call.Status, durationSeconds: Int?) async throws -> Call? {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            guard let call = try Call.filter(Column("call_sid") == callSid).fetchOne(db) else { return nil }
            return try Self.advance(call, to: status, durationSeconds: durationSeconds, at: now, in: db)
        }
    }

    private static func advance(
        _ original: Call, to status: Call.Status, durationSeconds: Int?, at now: Int64, in db: Database
    ) throws -> Call {
        var call = original
        if status.progress > call.status.progress {
            call.status = status
        }
        if status.isTerminal && call.status.isTerminal {
            call.endedAt = call.endedAt ?? now
            call.durationSeconds = durationSeconds ?? call.durationSeconds
        }
        guard call != original else { return original }
        try call.saveChange(at: now, in: db)
        return call
    }

    private static func insert(_ incoming: IncomingCall, at now: Int64, in db: Database) throws -> Call {
        let call = Call(
            id: UUID().uuidString.lowercased(), callSid: incoming.callSid, fromNumber: incoming.from,
            toNumber: incoming.to, direction: incoming.direction, status: incoming.status, startedAt: now,
            updatedAt: now)
        try call.insert(db)
        try Outbox.enqueueUpsert(.call(call), at: now, in: db)
        try touchCustomer(phone: incoming.from, at: now, in: db)
        return call
    }

    /// Records how the conversation went (language, outcome) when its Media Stream ends; the status
    /// and duration come from Twilio's status callback.
    @discardableResult
    public func recordConversation(callID: String, language: String?, outcome: String?) async throws -> Call? {
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            guard var call = try Call.fetchOne(db, key: callID) else { return nil }
            let original = call
            call.language = language ?? call.language
            call.outcome = outcome ?? call.outcome
            guard call != original else { return call }
            try call.saveChange(at: now, in: db)
            return call
        }
    }

    /// The turns of a call, in order.
    public func turns(callID: String) async throws -> [ConversationTurn] {
        try await database.read { db in
            try ConversationTurn.filter(Column("call_id") == callID).order(Column("sequence")).fetchAll(db)
        }
    }

    /// The call with Twilio's `callSid`.
    public func call(sid callSid: String) async throws -> Call? {
        try await database.read { db in try Call.filter(Column("call_sid") == callSid).fetchOne(db) }
    }

    /// The call with our `id`.
    public func call(id: String) async throws -> Call? {
        try await database.read { db in try Call.fetchOne(db, key: id) }
    }

    /// The latest calls, newest first (by when they started), at most `limit`; with `before` (Unix ms),
    /// only calls that started before it, to page back.
    public func recent(limit: Int = 50, before: Int64? = nil) async throws -> [Call] {
        try await database.read { db in
            var request = Call.order(Column("started_at").desc, Column("id").desc)
            if let before {
                request = request.filter(Column("started_at") < before)
            }
            return try request.limit(max(0, limit)).fetchAll(db)
        }
    }

    /// The tools the agent ran during a call, in the order they started.
    public func toolExecutions(callID: String) async throws -> [ToolExecution] {
        try await database.read { db in
            try ToolExecution.filter(Column("call_id") == callID).order(Column("started_at"), Column("id"))
                .fetchAll(db)
        }
    }

    /// The measurements of a call, in the order they were recorded.
    public func metrics(callID: String) async throws -> [CallMetric] {
        try await database.read { db in
            try CallMetric.filter(Column("call_id") == callID).order(Column("recorded_at"), Column("id")).fetchAll(db)
        }
    }

    /// Appends a turn (and queues it for headquarters).
    public func append(_ turn: ConversationTurn) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try turn.insert(db)
            try Outbox.enqueueUpsert(.conversationTurn(turn), at: now, in: db)
        }
    }

    /// Records a tool run (and queues it for headquarters).
    public func record(_ execution: ToolExecution) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            try execution.insert(db)
            try Outbox.enqueueUpsert(.toolExecution(execution), at: now, in: db)
        }
    }

    /// Records per-call measurements (and queues them for headquarters).
    public func record(_ metrics: [CallMetric]) async throws {
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            for metric in metrics {
                try metric.insert(db)
                try Outbox.enqueueUpsert(.callMetric(metric), at: now, in: db)
            }
        }
    }

    /// Counts the call in the caller's profile, when there is one.
    private static func touchCustomer(phone: String, at now: Int64, in db: Database) throws {
        guard let e164 = PhoneNumber.e164(phone), var customer = try CustomerDirectory.customer(phone: e164, in: db)
        else { return }
        customer.callCount += 1
        customer.lastCallAt = now
        try customer.saveChange(at: now, in: db)
    }
}
