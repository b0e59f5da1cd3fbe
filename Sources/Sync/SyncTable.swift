/// The tables whose rows travel between a box and headquarters; raw values are the table names,
/// identical in the box's SQLite and in headquarters' PostgreSQL.
public enum SyncTable: String, Codable, Sendable, CaseIterable {
    case reservations
    case customers
    case calls
    case conversationTurns = "conversation_turns"
    case toolExecutions = "tool_executions"
    case callMetrics = "call_metrics"
    case menuItems = "menu_items"
    case menuItemTranslations = "menu_item_translations"
    case recordings
    /// The site's booking settings (``SiteSettings``), written at headquarters only.
    case siteSettings = "site_settings"
    /// A day of calls rolled up on the box (``DailyCallSummary``).
    case dailyCallSummaries = "daily_call_summaries"
    /// Voicemails left with headquarters while the box was unreachable (``Voicemail``), written at
    /// headquarters only.
    case voicemails
}

/// What happened to a row.
public enum SyncOperation: String, Codable, Sendable {
    /// The row was created or changed; the change carries the whole row.
    case upsert
    /// The row was deleted in the ordinary course of business.
    case delete
    /// The row was erased on a privacy request; this tombstone wins over any older write.
    case erase
}
