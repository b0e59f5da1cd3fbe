/// One measured value of one call (a latency, a count), kept for reporting.
public struct CallMetric: Codable, Sendable, Equatable, Identifiable {
    public var id: String
    public var callID: String
    /// Stable metric name, snake case with its unit (`first_audio_latency_ms`).
    public var name: String
    public var value: Double
    public var recordedAt: Int64

    public init(id: String, callID: String, name: String, value: Double, recordedAt: Int64) {
        self.id = id
        self.callID = callID
        self.name = name
        self.value = value
        self.recordedAt = recordedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case callID = "call_id"
        case name
        case value
        case recordedAt = "recorded_at"
    }
}
