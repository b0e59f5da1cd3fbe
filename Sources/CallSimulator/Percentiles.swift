import EdgeAgent

/// Nearest-rank percentiles of measured durations.
public struct Percentiles: Sendable, CustomStringConvertible {
    public let count: Int
    public let p50: Duration
    public let p95: Duration
    public let p99: Duration
    public let maximum: Duration

    public init?(_ values: [Duration]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ p: Double) -> Duration {
            sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
        }
        count = sorted.count
        p50 = rank(0.50)
        p95 = rank(0.95)
        p99 = rank(0.99)
        maximum = sorted.last!
    }

    public var description: String {
        func ms(_ value: Duration) -> String { String(format: "%.1f ms", value.seconds * 1000) }
        return "p50 \(ms(p50)), p95 \(ms(p95)), p99 \(ms(p99)), max \(ms(maximum)) (n=\(count))"
    }
}
