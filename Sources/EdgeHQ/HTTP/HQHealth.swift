public import HTTPErrors
import Logging
import PostgresNIO

extension HealthRoutes {
    /// Headquarters' health: ready while a connection of the pool answers within 2 s; the metrics
    /// are ``HQMetrics``.
    public static func headquarters(database: HQDatabase, metrics: HQMetrics) -> HealthRoutes {
        HealthRoutes(
            readiness: { logger in
                do {
                    // Bounded whatever the pool does: a lease waited for while every connection is
                    // held (stuck handlers) is not-ready too.
                    _ = try await raceDeadline(.seconds(2), late: { CancellationError() }) {
                        try await database.query("SELECT 1", logger: logger)
                    }
                    return (["status": "up", "checks": ["database": ["status": "up"]]], true)
                } catch {
                    return (
                        [
                            "status": "down",
                            "checks": ["database": ["status": "down", "detail": "PostgreSQL does not answer"]],
                        ], false
                    )
                }
            },
            exposition: { metrics.exposition() })
    }
}
