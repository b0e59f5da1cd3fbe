import Foundation
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import EdgeAgent

@Suite("Health, readiness and metrics")
struct HealthRoutesTests {
    func withAgent(
        configure: (inout AgentConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (EdgeAgentApp, any TestClientProtocol, LogCapture) async throws -> Void
    ) async throws {
        let folder = TemporaryFolder()
        let logs = LogCapture()
        var configuration = testConfiguration(folder: folder)
        configure(&configuration)
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
        try await Application(router: app.makeRouter(), logger: logs.logger).test(.router) { client in
            try await body(app, client, logs)
        }
        await app.shutdown()
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    @Test("/healthz answers 200 while the process serves")
    func healthz() async throws {
        try await withAgent { _, client, _ in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
        }
    }

    @Test("/readyz names each dependency and its state")
    func readyz() async throws {
        try await withAgent { _, client, _ in
            let response = try await client.execute(uri: "/readyz", method: .get)
            #expect(response.status == .ok)
            let body = try Self.json(response)
            #expect(body["status"] as? String == "up")
            let checks = try #require(body["checks"] as? [String: [String: String]])
            #expect(checks["database"]?["status"] == "up")
            #expect(checks["disk"]?["status"] == "up")
            #expect(checks["twilio"]?["status"] == "up")
        }
    }

    @Test("/readyz reports degraded (still 200) on low disk and no Twilio token, and 503 when the database is gone")
    func readyzDegradedAndDown() async throws {
        let starved: (inout AgentConfiguration) -> Void = {
            $0.twilio.authToken = nil
            $0.minimumFreeDiskBytes = Int64.max / 2
        }
        try await withAgent(configure: starved) { app, client, _ in
            let degraded = try await client.execute(uri: "/readyz", method: .get)
            #expect(degraded.status == .ok)
            let body = try Self.json(degraded)
            #expect(body["status"] as? String == "degraded")
            let checks = try #require(body["checks"] as? [String: [String: String]])
            #expect(checks["disk"]?["status"] == "degraded")
            #expect(checks["disk"]?["detail"]?.contains("disk.minimum_free_mb") == true)
            #expect(checks["twilio"]?["detail"]?.contains("TWILIO_AUTH_TOKEN") == true)

            try app.database.close()
            let down = try await client.execute(uri: "/readyz", method: .get)
            #expect(down.status == .serviceUnavailable)
            let downBody = try Self.json(down)
            #expect(downBody["status"] as? String == "down")
            #expect((downBody["checks"] as? [String: [String: String]])?["database"]?["status"] == "down")
        }
    }

    @Test("/metrics exposes request counts and latencies by route, method and status")
    func metrics() async throws {
        try await withAgent { _, client, _ in
            _ = try await client.execute(uri: "/healthz", method: .get)
            _ = try await client.execute(uri: "/healthz", method: .get)
            _ = try await client.execute(uri: "/no/such/path", method: .get)
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: response.body)
            #expect(text.contains(#"edge_http_requests_total{route="/healthz",method="GET",status="200"} 2"#))
            #expect(text.contains(#"edge_http_requests_total{route="NotFound",method="GET",status="404"} 1"#))
            #expect(text.contains("# TYPE edge_http_request_duration_seconds histogram"))
            #expect(
                text.contains(
                    #"edge_http_request_duration_seconds_count{route="/healthz",method="GET",status="200"} 2"#))
        }
    }

    @Test("an unknown path gets a JSON 404")
    func notFound() async throws {
        try await withAgent { _, client, _ in
            let response = try await client.execute(uri: "/nope", method: .get)
            #expect(response.status == .notFound)
            #expect(String(buffer: response.body) == #"{"error":{"code":"not_found","message":"Not Found"}}"#)
        }
    }

    @Test("every log line of a request carries its request id, which the response echoes")
    func requestIDs() async throws {
        try await withAgent { _, client, logs in
            let given = try await client.execute(uri: "/readyz", method: .get, headers: [.requestID: "abc-123"])
            #expect(given.headers[.requestID] == "abc-123")
            let made = try await client.execute(uri: "/healthz", method: .get)
            let madeID = try #require(made.headers[.requestID])
            #expect(!madeID.isEmpty)
            // A header that could forge log content is replaced, not trusted.
            let forged = try await client.execute(uri: "/healthz", method: .get, headers: [.requestID: "x\"} evil"])
            #expect(forged.headers[.requestID] != "x\"} evil")

            let requestLines = logs.objects.filter { $0["message"] as? String == "request" }
            #expect(requestLines.count == 3)
            #expect(
                requestLines.contains {
                    $0["request.id"] as? String == "abc-123" && $0["http.route"] as? String == "/readyz"
                })
            #expect(
                requestLines.contains { $0["request.id"] as? String == madeID && $0["http.status"] as? String == "200" }
            )
            #expect(requestLines.allSatisfy { $0["ts"] is String && $0["level"] is String })
        }
    }
}
