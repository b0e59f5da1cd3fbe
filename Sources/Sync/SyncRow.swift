/// A whole row of one of the synced tables.
public enum SyncRow: Sendable, Equatable {
    case reservation(Reservation)
    case customer(Customer)
    case call(Call)
    case conversationTurn(ConversationTurn)
    case toolExecution(ToolExecution)
    case callMetric(CallMetric)
    case menuItem(MenuItem)
    case menuItemTranslation(MenuItemTranslation)
    case recording(Recording)
    case siteSettings(SiteSettings)
    case dailyCallSummary(DailyCallSummary)
    case voicemail(Voicemail)

    /// The table the row belongs to.
    public var table: SyncTable {
        switch self {
        case .reservation: .reservations
        case .customer: .customers
        case .call: .calls
        case .conversationTurn: .conversationTurns
        case .toolExecution: .toolExecutions
        case .callMetric: .callMetrics
        case .menuItem: .menuItems
        case .menuItemTranslation: .menuItemTranslations
        case .recording: .recordings
        case .siteSettings: .siteSettings
        case .dailyCallSummary: .dailyCallSummaries
        case .voicemail: .voicemails
        }
    }

    /// The row's primary key.
    public var rowID: String {
        switch self {
        case .reservation(let row): row.id
        case .customer(let row): row.id
        case .call(let row): row.id
        case .conversationTurn(let row): row.id
        case .toolExecution(let row): row.id
        case .callMetric(let row): row.id
        case .menuItem(let row): row.id
        case .menuItemTranslation(let row): row.id
        case .recording(let row): row.id
        case .siteSettings(let row): row.id
        case .dailyCallSummary(let row): row.id
        case .voicemail(let row): row.id
        }
    }

    /// The row's version; rows that never change after they are written are version 1.
    public var version: Int64 {
        switch self {
        case .reservation(let row): row.version
        case .customer(let row): row.version
        case .call(let row): row.version
        case .menuItem(let row): row.version
        case .recording(let row): row.version
        case .siteSettings(let row): row.version
        case .dailyCallSummary(let row): row.version
        case .voicemail(let row): row.version
        case .conversationTurn, .toolExecution, .callMetric, .menuItemTranslation: 1
        }
    }

    /// Decodes the row of `table`.
    public init(table: SyncTable, from decoder: any Decoder) throws {
        switch table {
        case .reservations: self = .reservation(try Reservation(from: decoder))
        case .customers: self = .customer(try Customer(from: decoder))
        case .calls: self = .call(try Call(from: decoder))
        case .conversationTurns: self = .conversationTurn(try ConversationTurn(from: decoder))
        case .toolExecutions: self = .toolExecution(try ToolExecution(from: decoder))
        case .callMetrics: self = .callMetric(try CallMetric(from: decoder))
        case .menuItems: self = .menuItem(try MenuItem(from: decoder))
        case .menuItemTranslations: self = .menuItemTranslation(try MenuItemTranslation(from: decoder))
        case .recordings: self = .recording(try Recording(from: decoder))
        case .siteSettings: self = .siteSettings(try SiteSettings(from: decoder))
        case .dailyCallSummaries: self = .dailyCallSummary(try DailyCallSummary(from: decoder))
        case .voicemails: self = .voicemail(try Voicemail(from: decoder))
        }
    }

    /// Encodes the row alone, without a discriminator: the enclosing change names the table.
    public func encodeRow(to encoder: any Encoder) throws {
        switch self {
        case .reservation(let row): try row.encode(to: encoder)
        case .customer(let row): try row.encode(to: encoder)
        case .call(let row): try row.encode(to: encoder)
        case .conversationTurn(let row): try row.encode(to: encoder)
        case .toolExecution(let row): try row.encode(to: encoder)
        case .callMetric(let row): try row.encode(to: encoder)
        case .menuItem(let row): try row.encode(to: encoder)
        case .menuItemTranslation(let row): try row.encode(to: encoder)
        case .recording(let row): try row.encode(to: encoder)
        case .siteSettings(let row): try row.encode(to: encoder)
        case .dailyCallSummary(let row): try row.encode(to: encoder)
        case .voicemail(let row): try row.encode(to: encoder)
        }
    }
}
