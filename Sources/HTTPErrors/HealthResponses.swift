public import Foundation
public import Hummingbird

/// The bodies of `/healthz`, `/readyz` and `/metrics`, the same on the box and at headquarters.
public enum HealthResponses {
    /// `object` as JSON with sorted keys (a readiness report, `{"status": "ok"}`).
    public static func json(_ object: [String: Any], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Prometheus' text exposition format.
    public static func metrics(_ exposition: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: exposition)))
    }
}
