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
        /// The caller wants another table beside one they already hold for the same time.
        public var additionalTable: Bool

        public init(
            name: String, phone: String?, partySize: Int, date: LocalDate, time: LocalTime, notes: String? = nil,
            source: Reservation.Source, callID: String? = nil, additionalTable: Bool = false
        ) {
            self.name = name
            self.phone = phone
            self.partySize = partySize
            self.date = date
            self.time = time
            self.notes = notes
            self.source = source
            self.callID = callID
            self.additionalTable = additionalTable
        }
    }

    /// What ``bookOnce(_:actor:)`` did.
    public struct Booking: Sendable, Equatable {
        public let reservation: Reservation
        /// The request was already booked (by this call, or by this phone moments ago): nothing new was stored.
        public let alreadyBooked: Bool
    }

    /// How long a phone's booking of a slot answers a second request for the same slot, from any call.
    public static let repeatWindowMilliseconds: Int64 = 10 * 60 * 1000

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

    /// Whether a party of `partySize` can be seated at `time` on `date`, with alternatives when not.
    public func check(date: LocalDate, time: LocalTime, partySize: Int) async throws -> AvailabilityDecision {
        let now = database.clock.now()
        // One policy for the whole decision, even if staff change it meanwhile.
        let availability = availability
        return try await database.read { db in
            let existing = try Self.fetchHolding(
                days: availability.alternativeDays(from: date), availability: availability, in: db)
            return availability.decide(date: date, time: time, partySize: partySize, existing: existing, now: now)
        }
    }

    /// Books a table, or throws ``ReservationError`` (``ReservationError/Code/unavailable`` with alternatives).
    /// - Parameter confirmation: a text message to queue in the same transaction.
    public func create(_ request: Request, actor: String, confirmation: TextConfirmation? = nil) async throws
        -> Reservation
    {
        try await book(request, actor: actor, once: false, confirmation: confirmation).reservation
    }

    /// Books a table once: a request this call has already booked (same name, party, day and time), or
    /// one for a slot the same phone booked within ``repeatWindowMilliseconds`` (unless it asks for an
    /// ``Request/additionalTable``), is answered with that booking and stores nothing. Decided inside
    /// the write transaction, so two requests at the same moment still make one row.
    public func bookOnce(_ request: Request, actor: String, confirmation: TextConfirmation? = nil) async throws
        -> Booking
    {
        try await book(request, actor: actor, once: true, confirmation: confirmation)
    }

    private func book(_ request: Request, actor: String, once: Bool, confirmation: TextConfirmation?) async throws
        -> Booking
    {
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
        // One policy for the whole decision, even if staff change it meanwhile.
        let availability = availability
        let startsAt = request.date.instant(at: request.time, in: availability.policy.timeZone).unixMilliseconds
        return try await database.write { db in
            if once,
                let existing = try earlierBooking(
                    of: request, name: name, phone: phone, startsAt: startsAt, now: nowMilliseconds, in: db)
            {
                return Booking(reservation: existing, alreadyBooked: true)
            }
            try Self.requireAvailable(
                date: request.date, time: request.time, partySize: request.partySize, excluding: nil, now: now,
                availability: availability, in: db)
            let customer = try phone.map {
                try CustomerDirectory.upsert(
                    phone: $0, name: name, partySize: request.partySize, at: nowMilliseconds, in: db)
            }
            let reservation = Reservation(
                id: UUID().uuidString.lowercased(), customerID: customer?.id, name: name, phone: phone,
                partySize: request.partySize, startsAt: startsAt,
                durationMinutes: availability.policy.diningMinutes, source: request.source,
                notes: request.notes, callID: request.callID, createdAt: nowMilliseconds, updatedAt: nowMilliseconds)
            try reservation.insert(db)
            try Outbox.enqueueUpsert(.reservation(reservation), at: nowMilliseconds, in: db)
            try AuditLog.record(
                actor: actor, action: "reservation.create", entity: SyncTable.reservations.rawValue,
                entityID: reservation.id,
                details: ["party_size": "\(request.partySize)", "source": request.source.rawValue],
                at: nowMilliseconds, in: db)
            if let confirmation {
                try TextConfirmations.enqueue(confirmation, of: reservation, at: nowMilliseconds, in: db)
            }
            return Booking(reservation: reservation, alreadyBooked: false)
        }
    }

    /// A seat-holding booking that already answers `request`: made by the same call for the same name,
    /// party, day and time, or (unless another table is wanted) by the same phone for the same slot
    /// within ``repeatWindowMilliseconds``.
    private func earlierBooking(
        of request: Request, name: String, phone: String?, startsAt: Int64, now: Int64, in db: Database
    ) throws -> Reservation? {
        let holding =
            Column("status") == Reservation.Status.confirmed.rawValue
            || Column("status") == Reservation.Status.seated.rawValue
        if let callID = request.callID,
            let same = try Reservation.filter(
                Column("call_id") == callID && Column("starts_at") == startsAt
                    && Column("party_size") == request.partySize && holding
            ).fetchAll(db).first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame })
        {
            return same
        }
        guard !request.additionalTable, let phone else { return nil }
        return try Reservation.filter(
            Column("phone") == phone && Column("starts_at") == startsAt && holding
                && Column("created_at") >= now - Self.repeatWindowMilliseconds
        ).order(Column("created_at")).fetchOne(db)
    }

    /// Moves or resizes a reservation, re-checking availability without counting its own seats.
    public func update(id: String, _ changes: Changes, actor: String, confirmation: TextConfirmation? = nil)
        async throws -> Reservation
    {
        let now = database.clock.now()
        let nowMilliseconds = now.unixMilliseconds
        // One policy for the whole decision, even if staff change it meanwhile.
        let availability = availability
        return try await database.write { db in
            var reservation = try existing(id: id, in: db)
            guard reservation.status.holdsSeats else {
                throw ReservationError(.alreadyCancelled, "reservation \(id) is \(reservation.status.rawValue)")
            }
            let start = Date(unixMilliseconds: reservation.startsAt)
            let timeZone = availability.policy.timeZone
            let date = changes.date ?? LocalDate(start, in: timeZone)
            let time = changes.time ?? LocalTime(start, in: timeZone)
            let partySize = changes.partySize ?? reservation.partySize
            if changes.date != nil || changes.time != nil || changes.partySize != nil {
                try Self.requireAvailable(
                    date: date, time: time, partySize: partySize, excluding: reservation.id, now: now,
                    availability: availability, in: db)
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
            try reservation.saveChange(at: nowMilliseconds, in: db)
            try AuditLog.record(
                actor: actor, action: "reservation.update", entity: SyncTable.reservations.rawValue,
                entityID: reservation.id, details: ["version": "\(reservation.version)"], at: nowMilliseconds, in: db)
            if let confirmation {
                try TextConfirmations.enqueue(confirmation, of: reservation, at: nowMilliseconds, in: db)
            }
            return reservation
        }
    }

    /// Cancels a reservation, freeing its seats.
    public func cancel(id: String, actor: String, confirmation: TextConfirmation? = nil) async throws -> Reservation {
        let nowMilliseconds = database.clock.nowMilliseconds()
        return try await database.write { db in
            var reservation = try existing(id: id, in: db)
            guard reservation.status == .confirmed else {
                throw ReservationError(.alreadyCancelled, "reservation \(id) is \(reservation.status.rawValue)")
            }
            reservation.status = .cancelled
            try reservation.saveChange(at: nowMilliseconds, in: db)
            try AuditLog.record(
                actor: actor, action: "reservation.cancel", entity: SyncTable.reservations.rawValue,
                entityID: reservation.id, at: nowMilliseconds, in: db)
            if let confirmation {
                try TextConfirmations.enqueue(confirmation, of: reservation, at: nowMilliseconds, in: db)
            }
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
        let timeZone = availability.policy.timeZone
        return try await database.read { db in
            try Reservation
                .filter(Column("phone") == phone && Column("status") == Reservation.Status.confirmed.rawValue)
                .filter(Column("starts_at") >= now)
                .order(Column("starts_at"))
                .fetchAll(db)
                .filter { date == nil || LocalDate(Date(unixMilliseconds: $0.startsAt), in: timeZone) == date }
        }
    }

    /// The reservation of `phone` (optionally on `date`) cancelled most recently, if that was within
    /// ``repeatWindowMilliseconds``: a repeated cancellation is answered with it.
    public func recentlyCancelled(phone: String, on date: LocalDate? = nil) async throws -> Reservation? {
        guard let phone = PhoneNumber.e164(phone) else { return nil }
        let since = database.clock.nowMilliseconds() - Self.repeatWindowMilliseconds
        let timeZone = availability.policy.timeZone
        return try await database.read { db in
            try Reservation
                .filter(Column("phone") == phone && Column("status") == Reservation.Status.cancelled.rawValue)
                .filter(Column("updated_at") >= since)
                .order(Column("updated_at").desc)
                .fetchAll(db)
                .first { date == nil || LocalDate(Date(unixMilliseconds: $0.startsAt), in: timeZone) == date }
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

    /// The reservations starting on `date` (restaurant time) with `status` (every status when nil), in
    /// start order: the staff page's book for a day.
    public func reservations(on date: LocalDate, status: Reservation.Status?) async throws -> [Reservation] {
        let window = availability.window(for: date...date)
        return try await database.read { db in
            var request = Reservation.filter(
                Column("starts_at") >= window.lowerBound && Column("starts_at") < window.upperBound)
            if let status {
                request = request.filter(Column("status") == status.rawValue)
            }
            return try request.order(Column("starts_at"), Column("id")).fetchAll(db)
        }
    }

    /// How full each bookable slot of `date` is: guests seated against seats, counted as the booking
    /// rule counts them (``Availability/seatsHeld(from:to:holding:)``), including parties that sat down
    /// before the slot and are still eating.
    public func covers(on date: LocalDate) async throws -> [SlotCovers] {
        let availability = availability
        return try await database.read { db in
            availability.covers(
                on: date, holding: try Self.fetchHolding(days: date...date, availability: availability, in: db))
        }
    }

    private func existing(id: String, in db: Database) throws -> Reservation {
        guard let reservation = try Reservation.fetchOne(db, key: id) else {
            throw ReservationError(.notFound, "no reservation has id \(id)")
        }
        return reservation
    }

    private static func requireAvailable(
        date: LocalDate, time: LocalTime, partySize: Int, excluding: String?, now: Date, availability: Availability,
        in db: Database
    ) throws {
        let existing = try fetchHolding(
            days: availability.alternativeDays(from: date), availability: availability, in: db)
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
    private static func fetchHolding(days: ClosedRange<LocalDate>, availability: Availability, in db: Database) throws
        -> [Reservation]
    {
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
