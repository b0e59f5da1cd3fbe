public import LocalStore
public import Logging
public import ServiceLifecycle

/// Holds the database open while the agent runs and closes it cleanly (WAL checkpointed) on
/// graceful stop. Listed first in the service group, so it stops last, after the server and every
/// call have finished with it.
public struct DatabaseService: Service {
    let database: EdgeDatabase
    let logger: Logger

    public init(database: EdgeDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        do {
            try database.close()
            logger.info("database closed", metadata: ["db.path": .string(database.path)])
        } catch {
            logger.error("database did not close cleanly; SQLite will recover it at next start: \(error)")
            throw error
        }
    }
}
