import Foundation
import GRDB
public import LocalStore
import Sync

/// What the staff see and change, shared by `/api/v1` and the staff page: each read of personal data
/// (names, numbers, transcripts) is written to the audit log with who read it.
public struct AdminQueries: Sendable {
    let app: EdgeAgentApp

    public init(app: EdgeAgentApp) {
        self.app = app
    }

    var timeZone: TimeZone { app.policies.current.timeZone }
    var book: ReservationBook { ReservationBook(database: app.database, policies: app.policies) }
    var today: LocalDate { LocalDate(app.clock.now(), in: timeZone) }

    /// Records that `reader` read personal data.
    func auditRead(_ reader: String, what: String, entity: String, entityID: String?) async throws {
        let now = app.clock.nowMilliseconds()
        try await app.database.write { db in
            try AuditLog.recordRead(actor: reader, entity: entity, entityID: entityID, what: what, at: now, in: db)
        }
    }

    /// A day's reservations (today when nil), optionally of one status.
    func reservations(on date: LocalDate?, status: Reservation.Status?, reader: String) async throws
        -> [AdminJSON.ReservationBody]
    {
        let date = date ?? today
        let rows = try await book.reservations(on: date).filter { status == nil || $0.status == status }
        try await auditRead(reader, what: "reservations", entity: "reservations", entityID: date.description)
        return rows.map { AdminJSON.ReservationBody($0, timeZone: timeZone) }
    }

    /// A day's book: covers per slot against seats, its reservations by time, and the next times with
    /// seats for two.
    public func book(on date: LocalDate?, reader: String) async throws -> AdminJSON.Book {
        let today = today
        let date = date ?? today
        let slots = try await book.covers(on: date).map {
            AdminJSON.Slot(time: $0.time.description, covers: $0.covers, seats: $0.seats)
        }
        let rows = try await book.reservations(on: date).sorted { $0.startsAt < $1.startsAt }
        try await auditRead(reader, what: "reservations", entity: "reservations", entityID: date.description)
        let now = LocalTime(app.clock.now(), in: timeZone).description
        let nextFree = slots.filter { $0.seats - $0.covers >= 2 && (date != today || $0.time >= now) }.prefix(3)
            .map(\.time)
        return AdminJSON.Book(
            date: date.description, slots: slots,
            reservations: rows.map { AdminJSON.ReservationBody($0, timeZone: timeZone) },
            nextFree: Array(nextFree))
    }

    /// Recent calls, newest first, the callers' numbers masked.
    public func calls(limit: Int, before: Int64?) async throws -> [AdminJSON.CallSummary] {
        let log = CallLog(database: app.database)
        var summaries: [AdminJSON.CallSummary] = []
        for call in try await log.recent(limit: limit, before: before) {
            let fallbacks = try await log.metrics(callID: call.id).first { $0.name == "fallbacks" }?.value ?? 0
            summaries.append(
                AdminJSON.CallSummary(
                    facts: Self.facts(call, from: AdminJSON.masked(call.fromNumber)),
                    extra: AdminJSON.CallListing(fallbacks: Int(fallbacks))))
        }
        return summaries
    }

    /// One call with its transcript, tool calls, timings and recordings' metadata; nil when unknown.
    public func call(id: String, reader: String) async throws -> AdminJSON.CallDetail? {
        let log = CallLog(database: app.database)
        guard let call = try await log.call(id: id) else { return nil }
        let turns = try await log.turns(callID: id).map { turn in
            AdminJSON.Turn(
                sequence: turn.sequence, speaker: turn.speaker.rawValue, text: turn.text, language: turn.language,
                startedAt: AdminJSON.instant(turn.startedAt), interrupted: turn.interrupted,
                responseMilliseconds: turn.endOfSpeechAt.flatMap { end in turn.firstFrameAt.map { Int($0 - end) } })
        }
        let tools = try await log.toolExecutions(callID: id).map { execution in
            AdminJSON.ToolCall(
                tool: execution.tool, status: execution.status.rawValue,
                startedAt: AdminJSON.instant(execution.startedAt), durationMs: execution.durationMilliseconds,
                arguments: execution.arguments, result: execution.result)
        }
        let timings = try await log.metrics(callID: id).map { AdminJSON.Timing(name: $0.name, value: $0.value) }
        let recordings = try await app.database.read { db in
            try Recording.filter(Column("call_id") == id).order(Column("started_at")).fetchAll(db)
        }.map { recording in
            AdminJSON.RecordingInfo(
                id: recording.id, state: recording.state.rawValue, startedAt: AdminJSON.instant(recording.startedAt),
                durationMs: recording.durationMilliseconds, sizeBytes: recording.sizeBytes)
        }
        try await auditRead(reader, what: "call", entity: "calls", entityID: id)
        return AdminJSON.CallDetail(
            facts: Self.facts(call, from: call.fromNumber),
            extra: AdminJSON.CallHistory(
                to: call.toNumber, turns: turns, toolCalls: tools, timings: timings, recordings: recordings))
    }

    static func facts(_ call: Call, from: String) -> AdminJSON.CallFacts {
        AdminJSON.CallFacts(
            id: call.id, startedAt: AdminJSON.instant(call.startedAt), durationSeconds: call.durationSeconds,
            status: call.status.rawValue, outcome: call.outcome, language: call.language, from: from)
    }

    static func message(_ message: StaffMessage) -> AdminJSON.Message {
        AdminJSON.Message(
            id: message.id, message: message.message, callbackPhone: message.callbackPhone, language: message.language,
            status: message.status.rawValue, createdAt: AdminJSON.instant(message.createdAt), callId: message.callID)
    }

    /// Messages callers left, newest first.
    public func messages(status: StaffMessage.Status?, reader: String) async throws -> [AdminJSON.Message] {
        let messages = try await StaffMessageBoard(database: app.database).list(status: status)
        try await auditRead(reader, what: "messages", entity: "staff_messages", entityID: nil)
        return messages.map(Self.message)
    }

    /// Marks a message handled; nil when unknown.
    public func markHandled(id: String, actor: String) async throws -> AdminJSON.Message? {
        try await StaffMessageBoard(database: app.database).markHandled(id: id, actor: actor).map(Self.message)
    }

    static func item(_ item: MenuCatalog.LocalizedItem) -> AdminJSON.MenuItemBody {
        AdminJSON.MenuItemBody(
            id: item.item.id, category: item.item.category, name: item.name, description: item.description,
            priceCents: item.item.priceCents, currency: item.item.currency, available: item.available)
    }

    /// The whole menu, available or not.
    public func menu(language: String) async throws -> [AdminJSON.MenuItemBody] {
        try await MenuCatalog(database: app.database).allItems(language: language).map(Self.item)
    }

    /// Switches an item on or off; nil when unknown.
    public func setAvailable(id: String, available: Bool, actor: String) async throws -> AdminJSON.MenuItemBody? {
        let catalog = MenuCatalog(database: app.database)
        guard try await catalog.setAvailable(itemID: id, available: available, actor: actor) else { return nil }
        return try await catalog.allItems(language: "en").first { $0.item.id == id }.map(Self.item)
    }

    /// Each upstream, the sync backlog, the disk and the phrase cache.
    public func health() async throws -> AdminJSON.Health {
        let report = await ReadinessProbe(
            database: app.database, configuration: app.configuration, upstreams: app.configuredUpstreams
        ).check()
        let sync = try await SyncState(database: app.database).status()
        let summary = PhraseCacheSummary(
            statistics: try await app.phraseCache.statistics(),
            pricePerThousandCharacters: app.configuration.textToSpeech.pricePerThousandCharacters)
        return AdminJSON.Health(
            status: report.status.rawValue,
            checks: report.checks.mapValues { AdminJSON.Check(status: $0.status.rawValue, detail: $0.detail) },
            sync: AdminJSON.SyncStatus(
                backlog: sync.backlog, oldestUnsentAt: sync.oldestUnsentAt.map(AdminJSON.instant),
                lastSuccessAt: sync.lastSuccessAt.map(AdminJSON.instant), lastError: sync.lastError,
                recordingsWaiting: sync.recordingsWaiting),
            diskFreeBytes: ReadinessProbe.freeBytes(in: app.configuration.dataDirectory),
            phraseCache: AdminJSON.CacheStatus(
                hitRate: summary.hitRate, entries: summary.statistics.entries, bytes: summary.statistics.bytes,
                charactersSaved: summary.statistics.counters[.charactersSaved] ?? 0, moneySaved: summary.moneySaved))
    }
}
