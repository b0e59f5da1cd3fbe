import Foundation
public import Logging
import OTel
public import ServiceLifecycle
public import Tracing

/// Where the spans of call turns go: swift-otel's OTLP/HTTP exporter when `tracing.otlp_endpoint` is
/// set, nowhere (a no-op tracer) otherwise. The tracer is handed to the calls, never bootstrapped
/// process-wide.
public struct TracingBackend: Sendable {
    /// The tracer the calls write their spans to.
    public let tracer: any Tracer
    /// Batches and exports the spans; nil when nothing is exported. It belongs in the service group:
    /// its graceful stop exports the spans still queued.
    public let service: (any Service)?

    /// No export: spans go to a no-op tracer.
    public static let disabled = TracingBackend(tracer: NoOpTracer(), service: nil)

    /// Spans to `tracer`, exported by `service` when it runs (tests pass an in-memory tracer alone).
    public init(tracer: any Tracer, service: (any Service)? = nil) {
        self.tracer = tracer
        self.service = service
    }

    /// The exporter for `settings`, or ``disabled`` without an endpoint.
    ///
    /// swift-otel still applies the standard `OTEL_*` environment variables (sampler, headers, batch
    /// sizes) over these settings. Fails with a ``StartupError`` when the exporter cannot be made.
    public static func make(settings: AgentConfiguration.TracingSettings, logger: Logger) throws(StartupError)
        -> TracingBackend
    {
        guard let endpoint = settings.otlpEndpoint else { return .disabled }
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.endpoint = tracesURL(endpoint).absoluteString
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        do {
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            logger.info(
                "call turn spans exported over OTLP/HTTP",
                metadata: ["tracing.endpoint": .string(configuration.traces.otlpExporter.endpoint)])
            return TracingBackend(tracer: backend.factory, service: backend.service)
        } catch {
            throw StartupError("cannot export spans to tracing.otlp_endpoint: \(error)")
        }
    }

    /// Where spans are posted: the collector's `/v1/traces`, unless the endpoint already names it.
    static func tracesURL(_ endpoint: URL) -> URL {
        let path = endpoint.path
        guard !path.hasSuffix("/v1/traces") else { return endpoint }
        var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)!
        components.path = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/v1/traces"
        return components.url!
    }
}
