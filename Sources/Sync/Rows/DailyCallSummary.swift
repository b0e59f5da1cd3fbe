/// One day of a site's calls, rolled up on the box (`daily_call_summaries`): what headquarters
/// reports on without reading every call. Rewritten, with the next version, as the day's calls end.
public struct DailyCallSummary: Codable, Sendable, Equatable, Identifiable {
    /// The local date, `YYYY-MM-DD`.
    public var id: String
    public var calls: Int
    /// Calls by what they achieved (``Call/outcome``).
    public var reservationsCreated: Int
    public var reservationsChanged: Int
    public var reservationsCancelled: Int
    public var messagesTaken: Int
    public var transfers: Int
    public var informationOnly: Int
    public var noConversation: Int
    /// Bookings taken on the keypad (the cloud was away).
    public var keypadBookings: Int
    /// Seconds on the phone, from Twilio's call durations.
    public var talkSeconds: Int
    /// The mean of the calls' mean response latencies (end of the caller's speech to the first agent
    /// audio), and the worst frame lateness of any call, in milliseconds.
    public var meanResponseLatencyMilliseconds: Double?
    public var worstFrameLatenessMilliseconds: Double?
    /// Calls where an upset caller was offered a person or a call-back, or asked for a person.
    public var escalations: Int
    public var version: Int64
    public var updatedAt: Int64

    public init(
        id: String, calls: Int = 0, reservationsCreated: Int = 0, reservationsChanged: Int = 0,
        reservationsCancelled: Int = 0, messagesTaken: Int = 0, transfers: Int = 0, informationOnly: Int = 0,
        noConversation: Int = 0, keypadBookings: Int = 0, talkSeconds: Int = 0,
        meanResponseLatencyMilliseconds: Double? = nil, worstFrameLatenessMilliseconds: Double? = nil,
        escalations: Int = 0, version: Int64 = 1, updatedAt: Int64 = 0
    ) {
        self.escalations = escalations
        self.id = id
        self.calls = calls
        self.reservationsCreated = reservationsCreated
        self.reservationsChanged = reservationsChanged
        self.reservationsCancelled = reservationsCancelled
        self.messagesTaken = messagesTaken
        self.transfers = transfers
        self.informationOnly = informationOnly
        self.noConversation = noConversation
        self.keypadBookings = keypadBookings
        self.talkSeconds = talkSeconds
        self.meanResponseLatencyMilliseconds = meanResponseLatencyMilliseconds
        self.worstFrameLatenessMilliseconds = worstFrameLatenessMilliseconds
        self.version = version
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case calls
        case reservationsCreated = "reservations_created"
        case reservationsChanged = "reservations_changed"
        case reservationsCancelled = "reservations_cancelled"
        case messagesTaken = "messages_taken"
        case transfers
        case informationOnly = "information_only"
        case noConversation = "no_conversation"
        case keypadBookings = "keypad_bookings"
        case talkSeconds = "talk_seconds"
        case meanResponseLatencyMilliseconds = "mean_response_latency_ms"
        case worstFrameLatenessMilliseconds = "worst_frame_lateness_ms"
        case escalations
        case version
        case updatedAt = "updated_at"
    }

    /// Decodes a summary; one written before escalations were counted has none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        calls = try container.decode(Int.self, forKey: .calls)
        reservationsCreated = try container.decode(Int.self, forKey: .reservationsCreated)
        reservationsChanged = try container.decode(Int.self, forKey: .reservationsChanged)
        reservationsCancelled = try container.decode(Int.self, forKey: .reservationsCancelled)
        messagesTaken = try container.decode(Int.self, forKey: .messagesTaken)
        transfers = try container.decode(Int.self, forKey: .transfers)
        informationOnly = try container.decode(Int.self, forKey: .informationOnly)
        noConversation = try container.decode(Int.self, forKey: .noConversation)
        keypadBookings = try container.decode(Int.self, forKey: .keypadBookings)
        talkSeconds = try container.decode(Int.self, forKey: .talkSeconds)
        meanResponseLatencyMilliseconds = try container.decodeIfPresent(
            Double.self, forKey: .meanResponseLatencyMilliseconds)
        worstFrameLatenessMilliseconds = try container.decodeIfPresent(
            Double.self, forKey: .worstFrameLatenessMilliseconds)
        escalations = try container.decodeIfPresent(Int.self, forKey: .escalations) ?? 0
        version = try container.decode(Int64.self, forKey: .version)
        updatedAt = try container.decode(Int64.self, forKey: .updatedAt)
    }

    /// The same day's figures, ignoring version and time (to know whether anything changed).
    public func sameFigures(as other: DailyCallSummary) -> Bool {
        var mine = self
        var theirs = other
        mine.version = 0
        mine.updatedAt = 0
        theirs.version = 0
        theirs.updatedAt = 0
        return mine == theirs
    }
}
