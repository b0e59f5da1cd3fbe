import Foundation
import HTTPErrors
public import Hummingbird

/// `/healthz`, `/readyz` and `/metrics`.
public struct HealthRoutes: Sendable {
    let readiness: ReadinessProbe
    let metrics: AgentMetrics

    public init(readiness: ReadinessProbe, metrics: AgentMetrics) {
        self.readiness = readiness
        self.metrics = metrics
    }

    public func register(on router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            HealthResponses.json(["status": "ok"], status: .ok)
        }
        router.get("/readyz") { _, _ in
            let report = await readiness.check()
            return HealthResponses.json(report.jsonObject, status: report.status == .down ? .serviceUnavailable : .ok)
        }
        router.get("/metrics") { _, _ in
            // Free space is read when Prometheus asks, so the figure is never older than the scrape.
            let folder = readiness.configuration.dataDirectory
            if let free = ReadinessProbe.freeBytes(in: folder) { metrics.diskFreeBytes.record(free) }
            metrics.diskMinimumFreeBytes.record(readiness.configuration.minimumFreeDiskBytes)
            return HealthResponses.metrics(metrics.exposition())
        }
    }
}
