import AsyncHTTPClient
public import Foundation
import NIOCore

extension TwilioRESTClient {
    /// Sends a text message; returns its Message SID. Throws ``TwilioRESTClient/RequestError`` with
    /// Twilio's code (21610: the recipient replied STOP; 21614: not a mobile number).
    public func sendMessage(to: String, from: String, body: String) async throws -> String {
        var request = authorizedRequest("Messages.json")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: Self.encode([("To", to), ("From", from), ("Body", body)])))
        let response = try await http.execute(request, timeout: timeout)
        try await Self.check(response)
        let data = try await response.body.collect(upTo: 256 * 1024)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any],
            let sid = object["sid"] as? String
        else {
            throw RequestError(status: response.status.code, twilioCode: nil)
        }
        return sid
    }

    /// What kind of line `phone` is (`mobile`, `landline`, `fixedVoip`, ...) by Twilio Lookup v2's line
    /// type intelligence at `lookupBaseURL`; nil when Lookup does not say.
    public func lineType(of phone: String, lookupBaseURL: URL) async throws -> String? {
        let encoded = phone.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? phone
        let base =
            lookupBaseURL.absoluteString.hasSuffix("/")
            ? String(lookupBaseURL.absoluteString.dropLast()) : lookupBaseURL.absoluteString
        var request = HTTPClientRequest(url: base + "/v2/PhoneNumbers/\(encoded)?Fields=line_type_intelligence")
        let credentials = Data("\(accountSID):\(authToken.value)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        let response = try await http.execute(request, timeout: timeout)
        try await Self.check(response)
        let data = try await response.body.collect(upTo: 256 * 1024)
        let object = try? JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any]
        return (object?["line_type_intelligence"] as? [String: Any])?["type"] as? String
    }
}
