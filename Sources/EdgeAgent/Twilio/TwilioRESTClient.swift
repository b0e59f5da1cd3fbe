public import AsyncHTTPClient
public import Foundation
public import Logging
public import NIOCore
public import Resilience
import TwilioWire

/// Twilio's REST API for live calls: transfer to staff (new TwiML with `<Dial>`) and hang-up.
/// Authenticates with HTTP Basic `AccountSid:AuthToken`; the token never reaches a log line.
public struct TwilioRESTClient: CallControl {
    /// A refused or failed request, with Twilio's error code when it sent one.
    public struct RequestError: Error, CustomStringConvertible, Sendable {
        public let status: UInt
        public let twilioCode: Int?
        public var description: String {
            "Twilio REST answered \(status)\(twilioCode.map { " (code \($0))" } ?? ""): check TWILIO_ACCOUNT_SID, "
                + "TWILIO_AUTH_TOKEN and that the call is still live"
        }
    }

    let http: HTTPClient
    let baseURL: URL
    let accountSID: String
    let authToken: Secret
    let timeout: TimeAmount
    let logger: Logger
    /// Twilio's circuit and limits; nil in tests of the client alone.
    let upstream: Upstream?

    public init(
        http: HTTPClient, baseURL: URL, accountSID: String, authToken: Secret, timeout: TimeAmount = .seconds(10),
        logger: Logger, upstream: Upstream? = nil
    ) {
        self.http = http
        self.baseURL = baseURL
        self.accountSID = accountSID
        self.authToken = authToken
        self.timeout = timeout
        self.logger = logger
        self.upstream = upstream
    }

    /// Replaces the call's TwiML with a `<Dial>` to `number`.
    public func transfer(callSid: String, to number: String) async throws {
        let twiml = "<Response><Dial>\(XMLEscaping.escape(number))</Dial></Response>"
        try await updateCall(callSid: callSid, form: [("Twiml", twiml)])
        logger.info("call transferred to staff", metadata: ["call.sid": .string(callSid)])
    }

    /// Ends the call; a call that has already ended (Twilio's 404 with code 20404) counts as done.
    public func hangUp(callSid: String) async throws {
        do {
            try await updateCall(callSid: callSid, form: [("Status", "completed")])
        } catch let error as RequestError where error.status == 404 && error.twilioCode == 20404 {
            return
        }
    }

    /// `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with a form body, behind Twilio's
    /// upstream when there is one (the same update sent twice has the same effect, so a retry is safe).
    func updateCall(callSid: String, form: [(String, String)]) async throws {
        guard let upstream else { return try await sendUpdate(callSid: callSid, form: form) }
        let form = form.map { Pair(name: $0.0, value: $0.1) }
        try await upstream.run(classify: Self.classify) {
            try await sendUpdate(callSid: callSid, form: form.map { ($0.name, $0.value) })
        }
    }

    private struct Pair: Sendable {
        let name: String
        let value: String
    }

    static func classify(_ error: any Error) -> FailureKind {
        guard let error = error as? RequestError else { return .retryable }
        return error.status == 429 || error.status >= 500 ? .retryable : .permanent
    }

    private func sendUpdate(callSid: String, form: [(String, String)]) async throws {
        var request = authorizedRequest("Calls/\(callSid).json")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        let response = try await http.execute(request, timeout: timeout)
        do {
            try await Self.check(response)
        } catch {
            logger.warning(
                "Twilio REST call update failed", metadata: ["call.sid": .string(callSid), "error": "\(error)"])
            throw error
        }
    }

    /// A request to `/2010-04-01/Accounts/{AccountSid}/{path}` with HTTP Basic credentials.
    func authorizedRequest(_ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL.joining("/2010-04-01/Accounts/\(accountSID)/\(path)"))
        let credentials = Data("\(accountSID):\(authToken.value)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        return request
    }

    /// Throws a ``RequestError`` (with Twilio's code from its JSON error body) unless the status is 2xx.
    static func check(_ response: HTTPClientResponse) async throws {
        guard !(200..<300).contains(response.status.code) else { return }
        let body = try await response.body.collect(upTo: 256 * 1024)
        let code = (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["code"] as? Int
        throw RequestError(status: response.status.code, twilioCode: code)
    }

    /// `application/x-www-form-urlencoded`, spaces as `%20`, as Twilio's API takes it.
    static func encode(_ form: [(String, String)]) -> String {
        FormParameters(form.map { (name: $0.0, value: $0.1) }).encoded
    }
}
