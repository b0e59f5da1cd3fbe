import CoreMetrics
import Dispatch
public import Hummingbird

/// Counts requests and times them by route template, method and status:
/// `edge_http_requests_total` and `edge_http_request_duration_seconds`.
public struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: AgentMetrics

    public init(metrics: AgentMetrics) {
        self.metrics = metrics
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            // Our bodies are small and fully built by the handler, so the time to here is the request's time.
            let response = try await next(request, context)
            record(request: request, context: context, status: response.status.code, since: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request: request, context: context, status: status, since: start)
            throw error
        }
    }

    private func record(request: Request, context: Context, status: Int, since start: UInt64) {
        // Unknown paths share one label (Hummingbird names them "NotFound") so a scanner cannot grow the
        // metric's cardinality.
        let dimensions = [
            ("route", context.endpointPath ?? "unmatched"),
            ("method", knownHTTPMethods.contains(request.method.rawValue) ? request.method.rawValue : "OTHER"),
            ("status", String(status)),
        ]
        Counter(label: "edge_http_requests_total", dimensions: dimensions, factory: metrics.factory).increment()
        Timer(label: "edge_http_request_duration_seconds", dimensions: dimensions, factory: metrics.factory)
            .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
    }
}

/// Methods kept as metric labels; any other becomes `OTHER`, so made-up methods cannot grow the series.
private let knownHTTPMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
