import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore

@testable import CallSimulator
@testable import EdgeAgent

/// Opens a Media Stream with a hand-made line, for tests of what the agent refuses.
enum HummingbirdWSClientConnect {
    /// Opens a Media Stream and sends everything a broken or hostile peer might: binary frames, text
    /// that is not JSON, media before start, bad Base64, an oversized payload, unknown events, and a
    /// start for a call that does not exist. Returns how the agent closed the socket.
    static func sendGarbage(url: String, signature: String?) async throws -> String? {
        let frame = try await WebSocketClient.connect(
            url: url, configuration: configuration(signature), logger: LogCapture().logger
        ) { inbound, outbound, _ in
            let big = String(repeating: "A", count: 20_000)
            let messages = [
                "not json at all", "[]", #"{"event":"media","media":{"payload":"/////w=="}}"#,
                #"{"event":"media","media":{"payload":"@@@"}}"#, #"{"event":"media","media":{"payload":"\#(big)"}}"#,
                #"{"event":"hologram"}"#, #"{"event":"dtmf","dtmf":{"digit":"99"}}"#,
            ]
            try await outbound.write(.binary(ByteBuffer(bytes: [0, 1, 2, 3])))
            for message in messages { try await outbound.write(.text(message)) }
            try await outbound.write(
                .text(
                    #"{"event":"start","streamSid":"MZ1","start":{"streamSid":"MZ1","callSid":"CA0000000000000000000000000000dead","customParameters":{"callId":"no-such-call","streamToken":"x"}}}"#
                ))
            for try await _ in inbound {}
        }
        return frame.map { "\($0.closeCode)" }
    }

    static func connect(url: String, line: SimulatedLine, signature: String?) async throws -> String? {
        let frame = try await WebSocketClient.connect(
            url: url, configuration: configuration(signature), logger: Logger(label: "test")
        ) { inbound, outbound, _ in
            try await line.run(inbound: inbound, outbound: outbound)
        }
        return frame.map { "\($0.closeCode)" }
    }

    /// The upgrade request's headers: Twilio's signature, when there is one.
    static func configuration(_ signature: String?) -> WebSocketClientConfiguration {
        var headers = HTTPFields()
        if let signature { headers[.twilioSignature] = signature }
        return WebSocketClientConfiguration(additionalHeaders: headers)
    }
}
