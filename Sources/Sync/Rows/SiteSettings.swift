/// The restaurant's booking settings as headquarters sets them (headquarters owns them; boxes only
/// download them). Each field left out keeps the box's own configuration for it. One row per site,
/// with the id ``singletonID``.
public struct SiteSettings: Codable, Sendable, Equatable, Identifiable {
    /// The id of a site's settings row.
    public static let singletonID = "site"

    public var id: String
    /// Opening periods per ISO weekday (`"1"` Monday ... `"7"` Sunday), each `HH:MM-HH:MM`; a day
    /// listed with no periods is closed.
    public var openingHours: [String: [String]]?
    /// Days closed whatever the weekday, `YYYY-MM-DD`.
    public var closedDates: [String]?
    /// Guests seated at the same time.
    public var seatsPerSlot: Int?
    /// The largest party bookable by phone.
    public var maxPartySize: Int?
    /// How long a party holds its seats, in minutes.
    public var diningMinutes: Int?
    public var version: Int64

    public init(
        id: String = SiteSettings.singletonID, openingHours: [String: [String]]? = nil, closedDates: [String]? = nil,
        seatsPerSlot: Int? = nil, maxPartySize: Int? = nil, diningMinutes: Int? = nil, version: Int64 = 1
    ) {
        self.id = id
        self.openingHours = openingHours
        self.closedDates = closedDates
        self.seatsPerSlot = seatsPerSlot
        self.maxPartySize = maxPartySize
        self.diningMinutes = diningMinutes
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case id
        case openingHours = "opening_hours"
        case closedDates = "closed_dates"
        case seatsPerSlot = "seats_per_slot"
        case maxPartySize = "max_party_size"
        case diningMinutes = "dining_minutes"
        case version
    }
}
