public import CoreMetrics
public import Prometheus
public import Sync

/// Headquarters' metrics registry (one per application, so two in one test process keep apart).
public struct HQMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// `edge_hq_upload_rows_total{outcome}`.
    public func uploadedRows(_ outcome: UploadResult.Outcome) -> CoreMetrics.Counter {
        CoreMetrics.Counter(
            label: "edge_hq_upload_rows_total", dimensions: [("outcome", outcome.rawValue)], factory: factory)
    }

    /// `edge_hq_authentication_failures_total{code}`.
    public func authenticationFailures(_ code: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(
            label: "edge_hq_authentication_failures_total", dimensions: [("code", code)], factory: factory)
    }

    /// `edge_hq_recording_bytes_total`: recording bytes received from boxes.
    public var recordingBytes: CoreMetrics.Counter {
        CoreMetrics.Counter(label: "edge_hq_recording_bytes_total", factory: factory)
    }

    /// `edge_hq_requests_in_flight`: request handlers running (see ``RequestsInFlight``).
    public var requestsInFlight: CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: "edge_hq_requests_in_flight", factory: factory)
    }

    public func exposition() -> String {
        registry.emitToString()
    }
}
