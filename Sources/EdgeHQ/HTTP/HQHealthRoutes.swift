import Foundation
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
            Self.json(["status": "ok"], status: .ok)
        }
        router.get("/readyz") { _, context in
            do {
                // Bounded whatever the pool does: a lease waited for while every connection is held
                // (stuck handlers) is not-ready too.
                try await raceDeadline(.seconds(2), late: { CancellationError() }) {
                    try await database.query("SELECT 1", logger: context.logger)
                }
                return Self.json(["status": "up", "checks": ["database": ["status": "up"]]], status: .ok)
            } catch {
                return Self.json(
                    [
                        "status": "down",
                        "checks": ["database": ["status": "down", "detail": "PostgreSQL does not answer"]],
                    ], status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
