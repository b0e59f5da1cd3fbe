/// A table booked for a party at a time.
public struct Reservation: Codable, Sendable, Equatable, Identifiable {
    /// Where a reservation stands; raw values are stored in `reservations.status`.
    public enum Status: String, Codable, Sendable, CaseIterable {
        case confirmed
        case cancelled
        case seated
        case completed
        case noShow = "no_show"

        /// Whether the party still holds seats at its time.
        public var holdsSeats: Bool { self == .confirmed || self == .seated }
    }

    /// Who made the reservation; raw values are stored in `reservations.source`.
    public enum Source: String, Codable, Sendable, CaseIterable {
        /// The voice agent, during a call.
        case phoneAgent = "phone_agent"
        /// The keypad flow, during a call without speech understanding.
        case keypad
        /// Staff, through the admin API.
        case staff
        /// Headquarters (for example an online booking).
        case headquarters
    }

    public var id: String
    /// The customer profile of the phone number, when there is one.
    public var customerID: String?
    /// The name the party booked under.
    public var name: String
    /// The guest's phone number in E.164, when known.
    public var phone: String?
    public var partySize: Int
    /// Start of the booking, Unix milliseconds UTC.
    public var startsAt: Int64
    /// How long the party holds its seats, in minutes.
    public var durationMinutes: Int
    public var status: Status
    public var source: Source
    public var notes: String?
    /// The call during which the booking was made, if any.
    public var callID: String?
    /// Grows by one on every write.
    public var version: Int64
    public var createdAt: Int64
    public var updatedAt: Int64

    /// End of the booking, Unix milliseconds UTC.
    public var endsAt: Int64 { startsAt + Int64(durationMinutes) * 60_000 }

    public init(
        id: String, customerID: String? = nil, name: String, phone: String? = nil, partySize: Int, startsAt: Int64,
        durationMinutes: Int, status: Status = .confirmed, source: Source, notes: String? = nil, callID: String? = nil,
        version: Int64 = 1, createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.customerID = customerID
        self.name = name
        self.phone = phone
        self.partySize = partySize
        self.startsAt = startsAt
        self.durationMinutes = durationMinutes
        self.status = status
        self.source = source
        self.notes = notes
        self.callID = callID
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case customerID = "customer_id"
        case name
        case phone
        case partySize = "party_size"
        case startsAt = "starts_at"
        case durationMinutes = "duration_minutes"
        case status
        case source
        case notes
        case callID = "call_id"
        case version
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
