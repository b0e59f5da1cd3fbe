import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Sync
import TestSupport
import Testing
import TwilioWire

@testable import EdgeAgent

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Webhooks as Twilio sends them to `https://agent.example.com`; signatures computed by Twilio's
/// Python library with the auth token `testAuthToken`.
@Suite("Twilio webhooks")
struct TwilioWebhookTests {
    static let voiceBody =
        "AccountSid=AC00000000000000000000000000000001&ApiVersion=2010-04-01&CallSid=CA11111111111111111111111111111111"
        + "&CallStatus=ringing&Called=%2B15557654321&Caller=%2B15551234567&Direction=inbound&From=%2B15551234567"
        + "&FromCountry=US&To=%2B15557654321&ToCountry=US"
    static let voiceSignature = "Hakd+LLui1/z8e6vyZB6+d13j3g="
    static let voiceWithQuerySignature = "PJ0T1J4kAJcs7xgvW8PDPGQG/Nc="
    static let statusBody =
        "AccountSid=AC00000000000000000000000000000001&ApiVersion=2010-04-01&CallSid=CA11111111111111111111111111111111"
        + "&CallStatus=completed&CallDuration=184&Duration=4&Direction=inbound&From=%2B15551234567&To=%2B15557654321"
        + "&CallbackSource=call-progress-events&SequenceNumber=0&Timestamp=Tue%2C+15+Dec+2026+19%3A04%3A11+%2B0000"
    static let statusSignature = "4K8Ed2MiA7esfNsaXx8GQMJUfTQ="

    static func post(
        _ client: some TestClientProtocol, _ path: String, body: String, signature: String?
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let signature { headers[.twilioSignature] = signature }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func withAgent(
        authToken: String? = testAuthToken,
        _ body: @escaping @Sendable (EdgeAgentApp, any TestClientProtocol, LogCapture) async throws -> Void
    ) async throws {
        let folder = TemporaryFolder()
        let logs = LogCapture()
        let app = try await EdgeAgentApp.prepare(
            configuration: testConfiguration(folder: folder, authToken: authToken), logger: logs.logger)
        let application = Application(router: app.makeRouter(), logger: logs.logger)
        try await application.test(.router) { client in try await body(app, client, logs) }
        await app.shutdown()
    }

    func callCount(_ app: EdgeAgentApp) async throws -> Int {
        try await app.database.read { db in try Call.fetchCount(db) }
    }

    @Test("a signed incoming call creates the call row and answers TwiML connecting the Media Stream")
    func incomingCall() async throws {
        try await withAgent { app, client, _ in
            let response = try await Self.post(
                client, "/twilio/voice", body: Self.voiceBody, signature: Self.voiceSignature)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/xml; charset=utf-8")

            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.callSid == "CA11111111111111111111111111111111")
            #expect(call.fromNumber == "+15551234567")
            #expect(call.status == .ringing)

            let document = try XMLDocument(data: Data(buffer: response.body))
            let root = try #require(document.rootElement())
            #expect(root.name == "Response")
            let stream = try #require(try root.nodes(forXPath: "/Response/Connect/Stream").first as? XMLElement)
            #expect(stream.attribute(forName: "url")?.stringValue == "wss://agent.example.com/twilio/media")
            let parameters = (try stream.nodes(forXPath: "Parameter") as? [XMLElement] ?? []).reduce(
                into: [String: String]()
            ) {
                $0[$1.attribute(forName: "name")!.stringValue!] = $1.attribute(forName: "value")!.stringValue!
            }
            #expect(parameters["callId"] == call.id)
            #expect(app.streamTokens.isValid(try #require(parameters["streamToken"]), callID: call.id))
            #expect(try root.nodes(forXPath: "//Say").isEmpty)
        }
    }

    @Test("a repeated webhook with the same CallSid creates no second row and answers the same TwiML")
    func repeatedWebhook() async throws {
        try await withAgent { app, client, _ in
            let first = try await Self.post(
                client, "/twilio/voice", body: Self.voiceBody, signature: Self.voiceSignature)
            let second = try await Self.post(
                client, "/twilio/voice", body: Self.voiceBody, signature: Self.voiceSignature)
            #expect(second.status == .ok)
            #expect(String(buffer: second.body) == String(buffer: first.body))
            #expect(try await callCount(app) == 1)
            let outbox = try await app.database.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE table_name = 'calls'")
            }
            #expect(outbox == 1)
        }
    }

    @Test("the query string is part of what is signed")
    func signedQuery() async throws {
        try await withAgent { app, client, _ in
            let path = "/twilio/voice?site=r42&x=a%20b"
            let ok = try await Self.post(client, path, body: Self.voiceBody, signature: Self.voiceWithQuerySignature)
            #expect(ok.status == .ok)
            let moved = try await Self.post(
                client, "/twilio/voice?site=r43&x=a%20b", body: Self.voiceBody, signature: Self.voiceWithQuerySignature)
            #expect(moved.status == .forbidden)
        }
    }

    @Test(
        "a missing, wrong or replayed-onto-other-data signature gets 403 with no TwiML and writes nothing",
        arguments: [
            (String?.none, voiceBody),
            (
                "Hakd+LLui1/z8e6vyZB6+d13j3g=",
                voiceBody.replacingOccurrences(of: "%2B15551234567", with: "%2B15550000000")
            ),
            ("AAAA+LLui1/z8e6vyZB6+d13j3g=", voiceBody),
            ("garbage", voiceBody),
        ])
    func refused(signature: String?, body: String) async throws {
        try await withAgent { app, client, logs in
            let response = try await Self.post(client, "/twilio/voice", body: body, signature: signature)
            #expect(response.status == .forbidden)
            let text = String(buffer: response.body)
            #expect(!text.contains("<Response"))
            #expect(text.contains(#""code":"invalid_signature""#))
            #expect(try await callCount(app) == 0)
            #expect(logs.all.contains { $0.contains("Twilio signature did not match: check TWILIO_AUTH_TOKEN") })
        }
    }

    @Test("with no auth token configured every webhook is refused")
    func noAuthToken() async throws {
        try await withAgent(authToken: nil) { app, client, _ in
            let response = try await Self.post(
                client, "/twilio/voice", body: Self.voiceBody, signature: Self.voiceSignature)
            #expect(response.status == .forbidden)
            #expect(String(buffer: response.body).contains("TWILIO_AUTH_TOKEN"))
            #expect(try await callCount(app) == 0)
        }
    }

    @Test("a status callback records the end of the call")
    func statusCallback() async throws {
        try await withAgent { app, client, _ in
            _ = try await Self.post(client, "/twilio/voice", body: Self.voiceBody, signature: Self.voiceSignature)
            let response = try await Self.post(
                client, "/twilio/status", body: Self.statusBody, signature: Self.statusSignature)
            #expect(response.status == .noContent)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.status == .completed)
            #expect(call.durationSeconds == 184)
            #expect(call.endedAt != nil)
            #expect(call.version == 2)
        }
    }

    @Test("a status callback for a call never seen still records it")
    func statusForUnknownCall() async throws {
        try await withAgent { app, client, _ in
            let response = try await Self.post(
                client, "/twilio/status", body: Self.statusBody, signature: Self.statusSignature)
            #expect(response.status == .noContent)
            let call = try #require(try await app.database.read { db in try Call.fetchOne(db) })
            #expect(call.status == .completed)
        }
    }

    @Test("a signed but malformed webhook gets 400 with a JSON error, and an oversized body 413")
    func malformed() async throws {
        try await withAgent { app, client, _ in
            // Signed correctly (Twilio's library) but without From and To.
            let body = "CallSid=CA11111111111111111111111111111111"
            let signature = TwilioSignature.compute(
                url: "https://agent.example.com/twilio/voice", parameters: FormParameters(body: Array(body.utf8))!,
                authToken: testAuthToken)
            let response = try await Self.post(client, "/twilio/voice", body: body, signature: signature)
            #expect(response.status == .badRequest)
            #expect(
                String(buffer: response.body)
                    == #"{"error":{"code":"bad_request","message":"From and To are required"}}"#)

            let huge = String(repeating: "A=b&", count: 20_000)
            let tooLarge = try await Self.post(client, "/twilio/voice", body: huge, signature: "x")
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try await callCount(app) == 0)
        }
    }

    @Test("no log line carries the auth token or a caller's full number")
    func noSecretsInLogs() async throws {
        try await withAgent { _, client, logs in
            _ = try await Self.post(client, "/twilio/voice", body: Self.voiceBody, signature: Self.voiceSignature)
            _ = try await Self.post(client, "/twilio/voice", body: Self.voiceBody, signature: "forged")
            #expect(!logs.all.isEmpty)
            for line in logs.all {
                #expect(!line.contains(testAuthToken))
                #expect(!line.contains("5551234567"))
            }
        }
    }
}
