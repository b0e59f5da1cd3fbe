public import HTTPErrors

extension HealthRoutes {
    /// The box's health: `/readyz` is the ``ReadinessProbe``'s report (a 503 only when it is down);
    /// the metrics are ``AgentMetrics``, the free disk space read when Prometheus asks, so the figure
    /// is never older than the scrape.
    public static func agent(readiness: ReadinessProbe, metrics: AgentMetrics) -> HealthRoutes {
        HealthRoutes(
            readiness: { _ in
                let report = await readiness.check()
                return (report.jsonObject, report.status != .down)
            },
            exposition: {
                let folder = readiness.configuration.dataDirectory
                if let free = ReadinessProbe.freeBytes(in: folder) { metrics.diskFreeBytes.record(free) }
                metrics.diskMinimumFreeBytes.record(readiness.configuration.minimumFreeDiskBytes)
                return metrics.exposition()
            })
    }
}
