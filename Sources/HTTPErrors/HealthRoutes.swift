import Foundation
public import Hummingbird
public import Logging

/// `/healthz` (the process serves), `/readyz` (it can do its work) and `/metrics` (Prometheus text):
/// the same three routes on the box and at headquarters, each side giving what it checks and counts.
public struct HealthRoutes: Sendable {
    /// What `/readyz` found: the report's JSON object, and whether the service is ready (a 200) or
    /// not (a 503).
    public typealias Readiness = @Sendable (_ logger: Logger) async -> (report: [String: Any], ready: Bool)

    let readiness: Readiness
    let exposition: @Sendable () async -> String

    /// - Parameters:
    ///   - readiness: checks what the service needs, within a bound of its own.
    ///   - exposition: the metrics in Prometheus' text format, read when Prometheus asks.
    public init(readiness: @escaping Readiness, exposition: @escaping @Sendable () async -> String) {
        self.readiness = readiness
        self.exposition = exposition
    }

    public func register(on router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            Self.json(["status": "ok"], status: .ok)
        }
        router.get("/readyz") { _, context in
            let (report, ready) = await readiness(context.logger)
            return Self.json(report, status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: await exposition())))
        }
    }

    /// `object` as JSON with sorted keys.
    static func json(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
