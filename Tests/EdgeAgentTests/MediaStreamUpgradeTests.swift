import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOCore
import TestSupport
import Testing
import TwilioWire

@testable import EdgeAgent

/// Twilio signs the Media Streams WebSocket upgrade with `X-Twilio-Signature` over the `wss://` URL.
/// The signatures here are made by Twilio's own Python library, so the agent and Twilio are checked
/// against each other rather than against our reading of the documentation.
@Suite("Media Stream upgrade signature")
struct MediaStreamUpgradeTests {
    /// Signatures made by Twilio's own library for each of `urls` (no form: a WebSocket upgrade has
    /// none); where the library is missing (never in CI, which installs it) the product's own computation.
    static func signatures(_ urls: [String], token: String = testAuthToken) async throws -> [String] {
        guard let made = try await TwilioLibrary.signatures(urls.map { ($0, []) }, token: token) else {
            #expect(
                ProcessInfo.processInfo.environment["CI"] == nil,
                "the twilio library is not installed at \(TestPython.path)")
            return urls.map { TwilioSignature.compute(url: $0, parameters: FormParameters([]), authToken: token) }
        }
        return made
    }

    static func upgradeRequest(_ pathAndQuery: String, signature: String?) -> Request {
        var head = HTTPRequest(method: .get, scheme: nil, authority: "agent.example.com", path: pathAndQuery)
        if let signature { head.headerFields[.twilioSignature] = signature }
        return Request(head: head, body: .init(buffer: ByteBuffer()))
    }

    @Test("the agent accepts exactly the signature Twilio's library makes for the wss:// URL it opens")
    func twilioLibraryAgrees() async throws {
        let paths = ["/twilio/media", "/twilio/media?site=r43&x=a%20b"]
        let made = try await Self.signatures(paths.map { "wss://agent.example.com" + $0 })
        let check = MediaStreamUpgradeCheck(configuration: testConfiguration(folder: TemporaryFolder()))
        let logs = LogCapture()
        for (path, signature) in zip(paths, made) {
            #expect(check.signedURL(for: Self.upgradeRequest(path, signature: nil)) == "wss://agent.example.com" + path)
            #expect(throws: Never.self) {
                try check.verify(Self.upgradeRequest(path, signature: signature), logger: logs.logger)
            }
        }
        // Twilio may sign the URL with the default port written out.
        let withPort = try await Self.signatures(["wss://agent.example.com:443/twilio/media"])[0]
        #expect(throws: Never.self) {
            try check.verify(Self.upgradeRequest("/twilio/media", signature: withPort), logger: logs.logger)
        }
        // Signed for another path, another scheme, or with another account's token: refused.
        let others =
            try await Self.signatures([
                "wss://agent.example.com/twilio/other", "https://agent.example.com/twilio/media",
            ])
            + Self.signatures(["wss://agent.example.com/twilio/media"], token: "another-account-token")
        for other in others {
            let error = #expect(throws: APIError.self) {
                try check.verify(Self.upgradeRequest("/twilio/media", signature: other), logger: logs.logger)
            }
            #expect(error?.status == .forbidden)
        }
        #expect(!logs.all.joined().contains(withPort))
        #expect(!logs.all.joined().contains(testAuthToken))
    }

    /// Sends a WebSocket upgrade for `/twilio/media` to the agent at `agentURL` and returns the status.
    static func upgradeStatus(_ agentURL: URL, signature: String?) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: agentURL.appendingPathComponent("twilio/media").absoluteString)
        request.headers.add(name: "Connection", value: "Upgrade")
        request.headers.add(name: "Upgrade", value: "websocket")
        request.headers.add(name: "Sec-WebSocket-Version", value: "13")
        request.headers.add(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
        if let signature { request.headers.add(name: "X-Twilio-Signature", value: signature) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        return (response.status.code, String(buffer: body))
    }

    @Test("through the running agent: a missing or wrong signature is refused with no WebSocket; Twilio's opens one")
    func liveUpgrade() async throws {
        let rig = CallTestRig(
            llm: OpenAIChatDouble([]), transcription: TranscriptionDouble([]), tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            let signedURL = TwilioSignature.webSocketURL(simulator.publicURL.joining("/twilio/media"))
            let good = try await Self.signatures([signedURL])[0]
            #expect(good == simulator.webSocketSignature())
            let forged = try await Self.signatures([signedURL], token: "another-account-token")[0]
            for signature in [nil, forged, "not base64 at all"] {
                let refused = try await Self.upgradeStatus(simulator.agentURL, signature: signature)
                // 403 on the wire, not hummingbird-websocket's fixed 400 for a refused upgrade.
                #expect(refused.status == 403)
                #expect(refused.body.isEmpty)
            }
            let logs = rig.logs.all
            #expect(logs.filter { $0.contains("Media Stream connecting") }.count == 0)
            #expect(logs.filter { $0.contains("Media Stream refused") }.count == 3)
            #expect(logs.filter { $0.contains(#""http.route":"/twilio/media","http.status":"403""#) }.count == 3)

            // Twilio's signature opens the socket (the agent then waits for `start`; we hang up at once).
            let webSocketURL = TwilioSignature.webSocketURL(simulator.agentURL.joining("/twilio/media"))
            _ = try await WebSocketClient.connect(
                url: webSocketURL, configuration: HummingbirdWSClientConnect.configuration(good),
                logger: Logger(label: "test")
            ) { _, _, _ in }
            #expect(rig.logs.all.filter { $0.contains("Media Stream connecting") }.count == 1)
            #expect(!rig.logs.all.joined().contains(good))
        }
    }
}
