import Foundation
public import GRDB
import Sync

/// A moment when more guests hold seats than the restaurant has: possible only after a merge (an
/// online booking from headquarters meeting one taken on the box while offline) or when
/// headquarters lowers the seats. Never resolved by dropping a booking: staff are told.
public struct OverbookedSlot: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "overbooked_slots"

    /// The moment (Unix ms) as text, so a moment has one row.
    public var id: String
    /// When the seats held peak (a party's arrival), Unix ms.
    public var moment: Int64
    public var seatsHeld: Int
    public var seats: Int
    /// The reservations seated at that moment, JSON array of ids.
    public var reservationIDs: String
    public var detectedAt: Int64
    /// When it was found no longer overbooked (a cancellation, more seats), or nil while it is.
    public var resolvedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id
        case moment
        case seatsHeld = "seats_held"
        case seats
        case reservationIDs = "reservation_ids"
        case detectedAt = "detected_at"
        case resolvedAt = "resolved_at"
    }
}

/// Finds overbooked moments on given days, keeps them in `overbooked_slots`, and leaves the staff a
/// message for each new one (naming the time, the guests and the seats) in the same transaction.
public struct OverbookingMonitor: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// Checks `dates` under `policy`; returns the moments newly found overbooked.
    @discardableResult
    public func check(dates: Set<LocalDate>, policy: ReservationPolicy) async throws -> [OverbookedSlot] {
        guard !dates.isEmpty else { return [] }
        let availability = Availability(policy: policy)
        let now = database.clock.nowMilliseconds()
        return try await database.write { db in
            var found: [OverbookedSlot] = []
            for date in dates.sorted() {
                let window = availability.window(for: date...date)
                let holding = try Reservation.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM reservations
                        WHERE starts_at < ? AND starts_at + duration_minutes * 60000 > ?
                        AND status IN ('confirmed', 'seated') ORDER BY starts_at, id
                        """,
                    arguments: [window.upperBound, window.lowerBound])
                // Seats held only rise at an arrival, so the arrivals of the day are the moments to check.
                var overbooked: [Int64: [Reservation]] = [:]
                for moment in Set(holding.map(\.startsAt)) where window.contains(moment) {
                    let seated = holding.filter { $0.startsAt <= moment && $0.endsAt > moment }
                    if seated.reduce(0, { $0 + $1.partySize }) > policy.seatsPerSlot { overbooked[moment] = seated }
                }
                let open = try OverbookedSlot.filter(
                    Column("moment") >= window.lowerBound && Column("moment") < window.upperBound
                        && Column("resolved_at") == nil
                ).fetchAll(db)
                for var slot in open where overbooked[slot.moment] == nil {
                    slot.resolvedAt = now
                    try slot.update(db)
                }
                for (moment, seated) in overbooked.sorted(by: { $0.key < $1.key }) {
                    let ids = String(decoding: try JSONEncoder().encode(seated.map(\.id)), as: UTF8.self)
                    let held = seated.reduce(0) { $0 + $1.partySize }
                    let wasOpen = open.contains { $0.moment == moment }
                    let slot = OverbookedSlot(
                        id: "\(moment)", moment: moment, seatsHeld: held, seats: policy.seatsPerSlot,
                        reservationIDs: ids, detectedAt: now, resolvedAt: nil)
                    try slot.save(db)
                    guard !wasOpen else { continue }
                    found.append(slot)
                    try Self.tellStaff(slot, seated: seated, policy: policy, at: now, in: db)
                }
            }
            return found
        }
    }

    /// Moments overbooked now, soonest first.
    public func open() async throws -> [OverbookedSlot] {
        try await database.read { db in
            try OverbookedSlot.filter(Column("resolved_at") == nil).order(Column("moment")).fetchAll(db)
        }
    }

    private static func tellStaff(
        _ slot: OverbookedSlot, seated: [Reservation], policy: ReservationPolicy, at now: Int64, in db: Database
    ) throws {
        let instant = Date(unixMilliseconds: slot.moment)
        let date = LocalDate(instant, in: policy.timeZone)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = policy.timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: instant)
        let time = String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
        let guests = seated.map { "\($0.name) (\($0.partySize), \($0.source.rawValue))" }.joined(separator: ", ")
        let text =
            "Overbooked on \(date) at \(time): \(slot.seatsHeld) guests for \(slot.seats) seats, "
            + "after bookings from headquarters and this box met. Seated then: \(guests). "
            + "Nothing was cancelled; please call a guest or make room."
        let message = StaffMessage(
            id: UUID().uuidString.lowercased(), callID: nil, message: text, callbackPhone: nil, language: "en",
            createdAt: now)
        try message.insert(db)
        try AuditLog.record(
            actor: "sync", action: "reservation.overbooked", entity: OverbookedSlot.databaseTableName,
            entityID: slot.id, details: ["seats_held": "\(slot.seatsHeld)", "seats": "\(slot.seats)"], at: now, in: db)
    }
}
