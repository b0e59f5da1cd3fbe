import Foundation
public import Logging
import PostgresNIO

/// The moments headquarters found overbooked (`overbooked_slots`, kept by triggers), for staff.
public struct OverbookedSlots: Sendable {
    let database: HQDatabase
    let logger: Logger

    public init(database: HQDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// One overbooked moment.
    public struct Slot: Sendable, Equatable {
        public var siteID: String
        /// When the seats held peak (Unix ms).
        public var moment: Int64
        public var seatsHeld: Int
        public var seats: Int
        public var reservationIDs: [String]
    }

    /// The moments overbooked now, soonest first; of one site, or of all.
    public func open(site: String? = nil) async throws -> [Slot] {
        var slots: [Slot] = []
        for try await (siteID, moment, held, seats, ids) in try await database.query(
            """
            SELECT site_id, moment, seats_held, seats, reservation_ids FROM overbooked_slots
            WHERE resolved_at IS NULL AND (\(site)::text IS NULL OR site_id = \(site))
            ORDER BY moment, site_id
            """, logger: logger
        ).decode((String, Int64, Int, Int, [String]).self) {
            slots.append(Slot(siteID: siteID, moment: moment, seatsHeld: held, seats: seats, reservationIDs: ids))
        }
        return slots
    }
}
