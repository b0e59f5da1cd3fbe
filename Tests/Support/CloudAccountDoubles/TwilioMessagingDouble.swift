import Foundation
public import Hummingbird
public import NIOConcurrencyHelpers

/// Twilio's Messages resource and Lookup v2 for one account, as Twilio answers them: HTTP Basic
/// `AccountSid:AuthToken` (401 with code 20003 otherwise); `POST …/Messages.json` with `To`, `From`
/// and `Body` answers 201 with the message (`SM…`), 400 with code 21610 for a number that replied
/// STOP, 400 with 21211 for a `To` that is not a number, and 503 while ``failuresLeft`` lasts;
/// `GET /v2/PhoneNumbers/{number}?Fields=line_type_intelligence` answers the number's line type.
public final class TwilioMessagingDouble: Sendable {
    public let accountSID: String
    public let authToken: String
    /// Messages accepted, in order: `To`, `From`, `Body`, and the `sid` given.
    public let messages = NIOLockedValueBox<[[String: String]]>([])
    /// Numbers that replied STOP at the carrier.
    public let unsubscribed = NIOLockedValueBox<Set<String>>([])
    /// Sends still to refuse with 503.
    public let failuresLeft = NIOLockedValueBox(0)
    /// Line types by number (`mobile` for any other).
    public let lineTypes = NIOLockedValueBox<[String: String]>([:])
    /// Lookups asked for, in order.
    public let lookups = NIOLockedValueBox<[String]>([])

    public init(accountSID: String, authToken: String) {
        self.accountSID = accountSID
        self.authToken = authToken
    }

    public func register(on router: Router<some RequestContext>) {
        router.post("/2010-04-01/Accounts/\(accountSID)/Messages.json") { request, _ -> Response in
            guard self.authorized(request) else {
                return TwilioPhoneNumbersDouble.error(401, code: 20003, message: "Authenticate")
            }
            let body = try await request.body.collect(upTo: 64 * 1024)
            let form = TwilioPhoneNumbersDouble.decodeForm(String(buffer: body))
            guard let to = form["To"], to.hasPrefix("+"), to.dropFirst().allSatisfy(\.isNumber),
                let from = form["From"],
                let text = form["Body"], !text.isEmpty
            else {
                return TwilioPhoneNumbersDouble.error(
                    400, code: 21211, message: "The 'To' number is not a valid phone number.")
            }
            if self.unsubscribed.withLockedValue({ $0.contains(to) }) {
                return TwilioPhoneNumbersDouble.error(
                    400, code: 21610, message: "Attempt to send to unsubscribed recipient")
            }
            let failing = self.failuresLeft.withLockedValue { left in
                defer { left = max(0, left - 1) }
                return left > 0
            }
            if failing { return TwilioPhoneNumbersDouble.error(503, code: 20503, message: "Service unavailable") }
            let sid = String(format: "SM%032d", self.messages.withLockedValue { $0.count } + 1)
            self.messages.withLockedValue { $0.append(["To": to, "From": from, "Body": text, "sid": sid]) }
            return TwilioPhoneNumbersDouble.json(
                [
                    "sid": sid, "account_sid": self.accountSID, "to": to, "from": from, "body": text,
                    "status": "queued", "num_segments": "1", "direction": "outbound-api",
                    "api_version": "2010-04-01",
                ], status: .created)
        }
        router.get("/v2/PhoneNumbers/:number") { request, context -> Response in
            guard self.authorized(request) else {
                return TwilioPhoneNumbersDouble.error(401, code: 20003, message: "Authenticate")
            }
            let number = try context.parameters.require("number").removingPercentEncoding ?? ""
            self.lookups.withLockedValue { $0.append(number) }
            let type = self.lineTypes.withLockedValue { $0[number] } ?? "mobile"
            var result: [String: Any] = [
                "phone_number": number, "valid": true, "calling_country_code": "1", "country_code": "US",
            ]
            if request.uri.queryParameters["Fields"] == "line_type_intelligence" {
                result["line_type_intelligence"] = [
                    "type": type, "carrier_name": "Test Carrier", "error_code": NSNull(),
                    "mobile_country_code": "310", "mobile_network_code": "456",
                ]
            }
            return TwilioPhoneNumbersDouble.json(result, status: .ok)
        }
    }

    private func authorized(_ request: Request) -> Bool {
        request.headers[.authorization] == "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
    }
}
