public import AsyncHTTPClient
import EdgeAgent
public import Foundation
import HTTPTypes
import HummingbirdWSClient
public import Logging
import NIOCore
import Synchronization
import TwilioWire

/// A Twilio-side client for the agent: posts the signed voice webhook, opens the Media Stream the
/// TwiML names, sends the caller's audio paced like Twilio (20 ms messages), DTMF and `stop`, and plays
/// the agent's audio out in real time, echoing each mark when its audio has played and every pending
/// mark at once on `clear`, exactly as Twilio does.
public struct CallSimulator: Sendable {
    /// Where the agent really listens (`http://127.0.0.1:8080`).
    public let agentURL: URL
    /// The agent's `EDGE_PUBLIC_URL`, which the webhook is signed against.
    public let publicURL: URL
    public let authToken: String
    public let http: HTTPClient
    public let logger: Logger
    /// Network jitter on the agent's audio: each message plays up to this much later than it came.
    public var jitter: Duration

    public init(
        agentURL: URL, publicURL: URL, authToken: String, http: HTTPClient = .shared, logger: Logger,
        jitter: Duration = .zero
    ) {
        self.agentURL = agentURL
        self.publicURL = publicURL
        self.authToken = authToken
        self.http = http
        self.logger = logger
        self.jitter = jitter
    }

    /// A failure of the simulated call itself.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Places one call and runs `script`.
    public func call(callSid: String, from: String, to: String, script: CallScript) async throws -> CallReport {
        let twiml = try await postVoiceWebhook(callSid: callSid, from: from, to: to)
        guard let stream = TwiMLStream(twiml) else { throw Failure(description: "the agent's TwiML has no <Stream>") }
        // Twilio reaches the agent at its public URL; the simulator goes to where it really listens.
        var socketURL = URLComponents(url: agentURL, resolvingAgainstBaseURL: false)!
        socketURL.scheme = agentURL.scheme == "https" ? "wss" : "ws"
        socketURL.path = URLComponents(string: stream.url)?.path ?? "/twilio/media"
        socketURL.query = URLComponents(string: stream.url)?.query
        let line = SimulatedLine(callSid: callSid, parameters: stream.parameters, script: script, jitter: jitter)
        // Twilio signs the upgrade over the wss:// URL it opens (the TwiML's, query included).
        let signature = TwilioSignature.compute(url: stream.url, parameters: FormParameters([]), authToken: authToken)
        var headers = HTTPFields()
        headers[.twilioSignature] = signature
        let closeFrame = try await WebSocketClient.connect(
            url: socketURL.string!, configuration: WebSocketClientConfiguration(additionalHeaders: headers),
            logger: logger
        ) {
            inbound, outbound, _ in
            try await line.run(inbound: inbound, outbound: outbound)
        }
        var report = line.report
        report.callID = stream.parameters["callId"]
        report.agentHungUp = line.hungUpByAgent || (closeFrame?.closeCode == .normalClosure && !line.callerHungUp)
        return report
    }

    /// The `X-Twilio-Signature` Twilio sends when it opens `path` (with its query) on the agent's public
    /// URL as a WebSocket: over the `wss://` URL, with no parameters.
    public func webSocketSignature(path: String = "/twilio/media") -> String {
        TwilioSignature.compute(
            url: TwilioSignature.webSocketURL(publicURL.joining(path)), parameters: FormParameters([]),
            authToken: authToken)
    }

    /// Posts `/twilio/voice` signed as Twilio signs it, and returns the TwiML.
    func postVoiceWebhook(callSid: String, from: String, to: String) async throws -> String {
        let form = FormParameters([
            ("AccountSid", "AC00000000000000000000000000000001"), ("ApiVersion", "2010-04-01"), ("CallSid", callSid),
            ("CallStatus", "ringing"), ("Direction", "inbound"), ("From", from), ("To", to),
        ])
        let signature = TwilioSignature.compute(
            url: publicURL.joining("/twilio/voice"), parameters: form, authToken: authToken)
        var request = HTTPClientRequest(url: agentURL.appendingPathComponent("twilio/voice").absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "X-Twilio-Signature", value: signature)
        request.body = .bytes(ByteBuffer(string: form.encoded))
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = String(buffer: try await response.body.collect(upTo: 64 * 1024))
        guard response.status.code == 200 else {
            throw Failure(description: "the voice webhook answered \(response.status.code): \(body)")
        }
        return body
    }
}

/// The `<Stream>` of a TwiML answer.
struct TwiMLStream {
    let url: String
    let parameters: [String: String]

    init?(_ twiml: String) {
        guard let url = Self.attribute("url", in: Self.element("Stream", in: twiml) ?? "") else { return nil }
        self.url = url
        var parameters: [String: String] = [:]
        var rest = twiml[...]
        while let range = rest.range(of: "<Parameter ") {
            let end = rest[range.upperBound...].firstIndex(of: ">") ?? rest.endIndex
            let element = String(rest[range.lowerBound..<end])
            if let name = Self.attribute("name", in: element), let value = Self.attribute("value", in: element) {
                parameters[name] = value
            }
            rest = rest[end...]
        }
        self.parameters = parameters
    }

    static func element(_ name: String, in text: String) -> String? {
        guard let start = text.range(of: "<\(name) ") else { return nil }
        let end = text[start.upperBound...].firstIndex(of: ">") ?? text.endIndex
        return String(text[start.lowerBound..<end])
    }

    static func attribute(_ name: String, in element: String) -> String? {
        guard let start = element.range(of: " \(name)=\"") else { return nil }
        guard let end = element[start.upperBound...].firstIndex(of: "\"") else { return nil }
        return String(element[start.upperBound..<end]).replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }
}
