import Foundation
import HTTPErrors
public import Hummingbird
import Logging
import PostgresNIO

/// `/healthz` (the process serves), `/readyz` (a connection of the pool answers within 2 s) and `/metrics` (Prometheus text).
public struct HQHealthRoutes: Sendable {
    let database: HQDatabase
    let metrics: HQMetrics

    public init(database: HQDatabase, metrics: HQMetrics) {
        self.database = database
        self.metrics = metrics
    }

    public func register(on router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            HealthResponses.json(["status": "ok"], status: .ok)
        }
        router.get("/readyz") { _, context in
            do {
                // Bounded whatever the pool does: a lease waited for while every connection is held
                // (stuck handlers) is not-ready too.
                try await raceDeadline(.seconds(2), late: { CancellationError() }) {
                    try await database.query("SELECT 1", logger: context.logger)
                }
                return HealthResponses.json(["status": "up", "checks": ["database": ["status": "up"]]], status: .ok)
            } catch {
                return HealthResponses.json(
                    [
                        "status": "down",
                        "checks": ["database": ["status": "down", "detail": "PostgreSQL does not answer"]],
                    ], status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ in
            HealthResponses.metrics(metrics.exposition())
        }
    }
}
