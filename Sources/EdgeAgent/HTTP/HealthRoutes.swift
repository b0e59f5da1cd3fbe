import Foundation
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
            Self.json(["status": "ok"], status: .ok)
        }
        router.get("/readyz") { _, _ in
            let report = await readiness.check()
            return Self.json(report.jsonObject, status: report.status == .down ? .serviceUnavailable : .ok)
        }
        router.get("/metrics") { _, _ in
            // Free space is read when Prometheus asks, so the figure is never older than the scrape.
            let folder = readiness.configuration.dataDirectory
            if let free = ReadinessProbe.freeBytes(in: folder) { metrics.diskFreeBytes.record(free) }
            metrics.diskMinimumFreeBytes.record(readiness.configuration.minimumFreeDiskBytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
    }

    static func json(_ object: Any, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
