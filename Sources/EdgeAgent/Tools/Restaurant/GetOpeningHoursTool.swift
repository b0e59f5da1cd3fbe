import Foundation
public import LocalStore

/// `get_opening_hours`: the hours of one day, or of the week.
public struct GetOpeningHoursTool: AgentTool {
    let policies: ReservationPolicySource
    let clock: any WallClock

    public init(policies: ReservationPolicySource, clock: any WallClock) {
        self.policies = policies
        self.clock = clock
    }

    /// Hours that never change (tests).
    public init(policy: ReservationPolicy, clock: any WallClock) {
        self.init(policies: ReservationPolicySource(configured: policy), clock: clock)
    }

    public let name = "get_opening_hours"
    public let description =
        "Opening hours of the restaurant on a date, or of the whole week when no date is given. Closed days say closed."
    public let parameters = JSONSchema.object(properties: ["date": ReservationParameters.date], required: [])

    static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    public func run(_ arguments: ToolArguments, context: ToolContext) async throws -> JSONValue {
        let policy = policies.current
        if let date = try ReservationParameters.date(arguments) {
            let periods = policy.periods(on: date)
            return [
                "date": .string(date.description), "weekday": .string(Self.weekdays[date.isoWeekday - 1]),
                "closed": .bool(periods.isEmpty), "hours": .array(periods.map { .string($0.description) }),
            ]
        }
        let today = LocalDate(clock.now(), in: policy.timeZone)
        var week: [String: JSONValue] = [:]
        for (index, day) in Self.weekdays.enumerated() {
            let periods = policy.openingHours[index + 1] ?? []
            week[day] = periods.isEmpty ? "closed" : .array(periods.map { .string($0.description) })
        }
        let upcomingClosures = policy.closedDates.filter { $0 >= today && $0 <= today.adding(days: 60) }.sorted()
        return [
            "today": .string(today.description), "week": .object(week),
            "closed_dates": .array(upcomingClosures.map { .string($0.description) }),
        ]
    }
}
