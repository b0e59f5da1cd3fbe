public import GRDB
public import Sync

// The synced row types live in `Sync` so the box and headquarters share them; here they learn
// to live in SQLite. Column names are their coding keys.

extension Reservation: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.reservations.rawValue
}

extension Customer: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.customers.rawValue
}

extension Call: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.calls.rawValue
}

extension ConversationTurn: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.conversationTurns.rawValue
}

extension ToolExecution: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.toolExecutions.rawValue
}

extension CallMetric: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.callMetrics.rawValue
}

extension MenuItem: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.menuItems.rawValue
}

extension MenuItemTranslation: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.menuItemTranslations.rawValue
}

extension Recording: FetchableRecord, PersistableRecord {
    public static let databaseTableName = SyncTable.recordings.rawValue
}
