import Foundation
import GRDB
public import Sync

/// The restaurant's book: checks availability and creates, changes and cancels reservations.
///
/// Every write re-checks availability inside its own write transaction (SQLite serialises
/// writers), so two callers can never both take the last seats; the reservation, its customer
/// profile, the outbox rows and the audit entry commit together.
public struct ReservationBook: Sendable {
    /// What a new reservation needs.
    public struct Request: Sendable {
        public var name: String
        public var phone: String?
        public var partySize: Int
        public var date: LocalDate
        public var time: LocalTime
        public var notes: String?
        public var source: Reservation.Source
        public var callID: String?

        public init(
            name: String, phone: String?, partySize: Int, date: LocalDate, time: LocalTime, notes: String? = nil,
            source: Reservation.Source, callID: String? = nil
        ) {
            self.name = name
            self.phone = phone
            self.partySize = partySize
            self.date = date
            self.time = time
            self.notes = notes
            self.source = source
            self.callID = callID
        }
    }

    /// What a change may touch; nil fields stay as they are.
    public struct Changes: Sendable {
        public var date: LocalDate?
        public var time: LocalTime?
        public var partySize: Int?
        public var notes: String?

        public init(date: LocalDate? = nil, time: LocalTime? = nil, partySize: Int? = nil, notes: String? = nil) {
            self.date = date
            self.time = time
            self.partySize = partySize
            self.notes = notes
        }
    }

    let database: EdgeDatabase
    /// The rules in force (the configuration, overlaid with headquarters' settings).
    public let policies: ReservationPolicySource

    /// The availability rules of the policy in force now.
    public var availability: Availability { Availability(policy: policies.current) }

    public init(database: EdgeDatabase, policies: ReservationPolicySource) {
        self.database = database
        self.policies = policies
    }

    /// A book with a fixed policy.
    public init(database: EdgeDatabase, policy: ReservationPolicy) {
        self.init(database: database, policies: ReservationPolicySource(configured: policy))
    }

    private var timeZone: TimeZone { availability.policy.timeZone }

    /// Whether a party of `partySize` can be seated at `time` on `date`, with alternatives when not.
    public func check(date: LocalDate, time: LocalTime, partySize: Int) async throws -> AvailabilityDecision {
        let now = database.clock.now()
        return try await database.read { db in
            let existing = try fetchHolding(days: availability.alternativeDays(from: date), in: db)
            return availability.decide(date: date, time: time, partySize: partySize, existing: existing, now: now)
        }
    }

    /// Books a table, or throws ``ReservationError`` (``ReservationError/Code/unavailable`` with alternatives).
    public func create(_ request: Request, actor: String) async throws -> Reservation {
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            throw ReservationError(.invalidName, "the reservation needs the guest's name (at most 100 characters)")
        }
        let phone = try request.phone.map { raw -> String in
            guard let phone = PhoneNumber.e164(raw) else {
                throw ReservationError(
                    .invalidPhone, "the phone number must be in international form, like +15551234567")
            }
            return phone
        }
        let now = database.clock.now()
        let nowMilliseconds = now.unixMilliseconds
        return try await database.write { db in
            try requireAvailable(
                date: request.date, time: request.time, partySize: request.partySize, excluding: nil, now: now,
                in: db)
            let customer = try phone.map {
                try CustomerDirectory.upsert(
                    phone: $0, name: name, partySize: request.partySize, at: nowMilliseconds, in: db)
            }
            let reservation = Reservation(
                id: UUID().uuidString.lowercased(), customerID: customer?.id, name: name, phone: phone,
                partySize: request.partySize,
                startsAt: request.date.instant(at: request.time, in: timeZone).unixMilliseconds,
                durationMinutes: availability.policy.diningMinutes, source: request.source,
                notes: request.notes, callID: request.callID, createdAt: nowMilliseconds, updatedAt: nowMilliseconds)
            try reservation.insert(db)
            try Outbox.enqueueUpsert(.reservation(reservation), at: nowMilliseconds, in: db)
            try AuditLog.record(
                actor: actor, action: "reservation.create", entity: SyncTable.reservations.rawValue,
                entityID: reservation.id,
                details: ["party_size": "\(request.partySize)", "source": request.source.rawValue],
                at: nowMilliseconds, in: db)
            return reservation
        }
    }

    /// Moves or resizes a reservation, re-checking availability without counting its own seats.
    public func update(id: String, _ changes: Changes, actor: String) async throws -> Reservation {
        let now = database.clock.now()
        let nowMilliseconds = now.unixMilliseconds
        return try await database.write { db in
            var reservation = try existing(id: id, in: db)
            guard reservation.status.holdsSeats else {
                throw ReservationError(.alreadyCancelled, "reservation \(id) is \(reservation.status.rawValue)")
            }
            let start = Date(unixMilliseconds: reservation.startsAt)
            let date = changes.date ?? LocalDate(start, in: timeZone)
            let time = changes.time ?? LocalTime(start, in: timeZone)
            let partySize = changes.partySize ?? reservation.partySize
            if changes.date != nil || changes.time != nil || changes.partySize != nil {
                try requireAvailable(
                    date: date, time: time, partySize: partySize, excluding: reservation.id, now: now, in: db)
            }
            if changes.date != nil || changes.time != nil {
                // Recomputed only when moved: an unmoved booking in a repeated autumn hour keeps its instant.
                reservation.startsAt = date.instant(at: time, in: timeZone).unixMilliseconds
            }
            if changes.date != nil || changes.time != nil || changes.partySize != nil {
                reservation.durationMinutes = availability.policy.diningMinutes
            }
            reservation.partySize = partySize
            if let notes = changes.notes { reservation.notes = notes }
            reservation.version += 1
            reservation.updatedAt = nowMilliseconds
            try reservation.update(db)
            try Outbox.enqueueUpsert(.reservation(reservation), at: nowMilliseconds, in: db)
            try AuditLog.record(
                actor: actor, action: "reservation.update", entity: SyncTable.reservations.rawValue,
                entityID: reservation.id, details: ["version": "\(reservation.version)"], at: nowMilliseconds, in: db)
            return reservation
        }
    }

    /// Cancels a reservation, freeing its seats.
    public func cancel(id: String, actor: String) async throws -> Reservation {
        let nowMilliseconds = database.clock.nowMilliseconds()
        return try await database.write { db in
            var reservation = try existing(id: id, in: db)
            guard reservation.status == .confirmed else {
                throw ReservationError(.alreadyCancelled, "reservation \(id) is \(reservation.status.rawValue)")
            }
            reservation.status = .cancelled
            reservation.version += 1
            reservation.updatedAt = nowMilliseconds
            try reservation.update(db)
            try Outbox.enqueueUpsert(.reservation(reservation), at: nowMilliseconds, in: db)
            try AuditLog.record(
                actor: actor, action: "reservation.cancel", entity: SyncTable.reservations.rawValue,
                entityID: reservation.id, at: nowMilliseconds, in: db)
            return reservation
        }
    }

    /// The reservation with `id`, if any.
    public func reservation(id: String) async throws -> Reservation? {
        try await database.read { db in try Reservation.fetchOne(db, key: id) }
    }

    /// Confirmed reservations of `phone` that have not started yet, soonest first; optionally only on `date`.
    public func upcoming(phone: String, on date: LocalDate? = nil) async throws -> [Reservation] {
        guard let phone = PhoneNumber.e164(phone) else { return [] }
        let now = database.clock.nowMilliseconds()
        let timeZone = timeZone
        return try await database.read { db in
            try Reservation
                .filter(Column("phone") == phone && Column("status") == Reservation.Status.confirmed.rawValue)
                .filter(Column("starts_at") >= now)
                .order(Column("starts_at"))
                .fetchAll(db)
                .filter { date == nil || LocalDate(Date(unixMilliseconds: $0.startsAt), in: timeZone) == date }
        }
    }

    /// Every reservation starting on `date` (restaurant time), in start order.
    public func reservations(on date: LocalDate) async throws -> [Reservation] {
        let window = availability.window(for: date...date)
        return try await database.read { db in
            try Reservation.filter(Column("starts_at") >= window.lowerBound && Column("starts_at") < window.upperBound)
                .order(Column("starts_at")).fetchAll(db)
        }
    }

    private func existing(id: String, in db: Database) throws -> Reservation {
        guard let reservation = try Reservation.fetchOne(db, key: id) else {
            throw ReservationError(.notFound, "no reservation has id \(id)")
        }
        return reservation
    }

    private func requireAvailable(
        date: LocalDate, time: LocalTime, partySize: Int, excluding: String?, now: Date, in db: Database
    ) throws {
        let existing = try fetchHolding(days: availability.alternativeDays(from: date), in: db)
        let decision = availability.decide(
            date: date, time: time, partySize: partySize, existing: existing, now: now, excluding: excluding)
        if let reason = decision.reason {
            throw ReservationError(
                .unavailable, "\(date) \(time) for \(partySize) cannot be booked: \(reason.rawValue)",
                decision: decision)
        }
    }

    /// Seat-holding reservations that overlap `days` (plus the dining time after the last day), by each
    /// reservation's own length, so a long booking that started earlier is counted too.
    private func fetchHolding(days: ClosedRange<LocalDate>, in db: Database) throws -> [Reservation] {
        let window = availability.window(for: days)
        let end = window.upperBound + Int64(availability.policy.diningMinutes) * 60_000
        return try Reservation.fetchAll(
            db,
            sql: """
                SELECT * FROM reservations
                WHERE starts_at < ? AND starts_at + duration_minutes * 60000 > ? AND status IN ('confirmed', 'seated')
                """,
            arguments: [end, window.lowerBound])
    }
}
