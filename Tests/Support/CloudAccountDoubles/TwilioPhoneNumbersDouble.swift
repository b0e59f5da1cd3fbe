import Foundation
public import Hummingbird
public import NIOConcurrencyHelpers

/// Twilio's `IncomingPhoneNumbers` REST resource for one account, as Twilio answers it: HTTP Basic
/// `AccountSid:AuthToken` (401 with code 20003 otherwise), `GET …/IncomingPhoneNumbers.json?PhoneNumber=`
/// lists only this account's numbers (another account's number is simply not there), and
/// `POST …/IncomingPhoneNumbers/{PN…}.json` with a form body updates `VoiceUrl`, `VoiceMethod`,
/// `VoiceFallbackUrl` and `VoiceFallbackMethod` and answers the number (404 with code 20404 for an
/// unknown one). Its recordings answer `GET …/Recordings/{RE…}.wav` with the WAV bytes and
/// `DELETE …/Recordings/{RE…}.json` with 204.
public final class TwilioPhoneNumbersDouble: Sendable {
    public let accountSID: String
    public let authToken: String
    /// The account's numbers, by `PN…` sid, as Twilio's JSON fields.
    let numbers: NIOLockedValueBox<[String: [String: String]]>
    /// Every update's form, in order.
    public let updates = NIOLockedValueBox<[[String: String]]>([])
    public let unauthorized = NIOLockedValueBox(0)
    /// The account's recordings, WAV bytes by `RE…` sid (`GET …/Recordings/{RE…}.wav`, `DELETE ….json`).
    public let recordings = NIOLockedValueBox<[String: [UInt8]]>([:])
    /// Recording fetches still to answer with 503, as Twilio does while a recording is processed.
    public let failingRecordingFetches = NIOLockedValueBox(0)
    /// Every recording fetch, by sid, in order.
    public let recordingFetches = NIOLockedValueBox<[String]>([])

    /// - Parameter numbers: the account's numbers, E.164, with their current voice URL (nil: none).
    public init(accountSID: String, authToken: String, numbers: [String: String?]) {
        self.accountSID = accountSID
        self.authToken = authToken
        var held: [String: [String: String]] = [:]
        for (index, (phone, voiceURL)) in numbers.sorted(by: { $0.key < $1.key }).enumerated() {
            let sid = String(format: "PN%032d", index + 1)
            held[sid] = [
                "sid": sid, "account_sid": accountSID, "phone_number": phone, "voice_url": voiceURL ?? "",
                "voice_method": "POST", "voice_fallback_url": "", "voice_fallback_method": "POST",
            ]
        }
        self.numbers = NIOLockedValueBox(held)
    }

    /// The number `phone` as Twilio holds it now.
    public func number(_ phone: String) -> [String: String]? {
        numbers.withLockedValue { $0.values.first { $0["phone_number"] == phone } }
    }

    /// Sets a field of `phone` directly, as someone in Twilio's console would.
    public func set(_ field: String, to value: String, of phone: String) {
        numbers.withLockedValue { numbers in
            guard let sid = numbers.first(where: { $0.value["phone_number"] == phone })?.key else { return }
            numbers[sid]?[field] = value
        }
    }

    /// The URL Twilio gives for a recording (`RecordingUrl`: no extension) under `base`.
    public func recordingURL(base: String, sid: String) -> String {
        "\(base)/2010-04-01/Accounts/\(accountSID)/Recordings/\(sid)"
    }

    public func register(on router: Router<some RequestContext>) {
        let recordingsPrefix = "/2010-04-01/Accounts/\(accountSID)/Recordings"
        router.get("\(recordingsPrefix)/:file") { request, context -> Response in
            guard self.authorized(request) else { return Self.error(401, code: 20003, message: "Authenticate") }
            let file = try context.parameters.require("file")
            guard file.hasSuffix(".wav") else { return Self.error(404, code: 20404, message: "Not found") }
            let sid = String(file.dropLast(".wav".count))
            self.recordingFetches.withLockedValue { $0.append(sid) }
            let failing = self.failingRecordingFetches.withLockedValue { count in
                defer { count = max(0, count - 1) }
                return count > 0
            }
            if failing { return Self.error(503, code: 20503, message: "Service unavailable") }
            guard let wav = self.recordings.withLockedValue({ $0[sid] }) else {
                return Self.error(404, code: 20404, message: "The requested resource was not found")
            }
            return Response(
                status: .ok, headers: [.contentType: "audio/x-wav"], body: .init(byteBuffer: ByteBuffer(bytes: wav)))
        }
        router.delete("\(recordingsPrefix)/:file") { request, context -> Response in
            guard self.authorized(request) else { return Self.error(401, code: 20003, message: "Authenticate") }
            let file = try context.parameters.require("file")
            let sid = String(file.dropLast(file.hasSuffix(".json") ? ".json".count : 0))
            let removed = self.recordings.withLockedValue { $0.removeValue(forKey: sid) }
            return removed == nil
                ? Self.error(404, code: 20404, message: "The requested resource was not found")
                : Response(status: .noContent)
        }
        let prefix = "/2010-04-01/Accounts/\(accountSID)/IncomingPhoneNumbers"
        router.get("\(prefix).json") { request, _ -> Response in
            guard self.authorized(request) else { return Self.error(401, code: 20003, message: "Authenticate") }
            let wanted = request.uri.queryParameters["PhoneNumber"].map(String.init)
            let listed = self.numbers.withLockedValue { numbers in
                numbers.values.filter { wanted == nil || $0["phone_number"] == wanted }
                    .sorted { ($0["sid"] ?? "") < ($1["sid"] ?? "") }
            }
            let page: [String: Any] = [
                "incoming_phone_numbers": listed.map(Self.resource), "page": 0, "page_size": 50,
                "first_page_uri": "\(prefix).json?PageSize=50&Page=0", "next_page_uri": NSNull(),
                "previous_page_uri": NSNull(), "start": 0, "end": max(0, listed.count - 1),
                "uri": "\(prefix).json?PageSize=50&Page=0",
            ]
            return Self.json(page, status: .ok)
        }
        router.post("\(prefix)/:file") { request, context -> Response in
            guard self.authorized(request) else { return Self.error(401, code: 20003, message: "Authenticate") }
            let file = try context.parameters.require("file")
            guard file.hasSuffix(".json") else { return Self.error(404, code: 20404, message: "Not found") }
            let sid = String(file.dropLast(".json".count))
            let body = try await request.body.collect(upTo: 64 * 1024)
            let form = Self.decodeForm(String(buffer: body))
            let fields = [
                "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
                "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
            ]
            let updated: [String: String]? = self.numbers.withLockedValue { numbers in
                guard numbers[sid] != nil else { return nil }
                for (name, value) in form { if let field = fields[name] { numbers[sid]?[field] = value } }
                return numbers[sid]
            }
            guard let updated else {
                return Self.error(404, code: 20404, message: "The requested resource \(prefix)/\(file) was not found")
            }
            self.updates.withLockedValue { $0.append(form) }
            return Self.json(Self.resource(updated), status: .ok)
        }
    }

    /// A number as Twilio's JSON: empty URLs are JSON null, as Twilio sends an unset URL.
    static func resource(_ fields: [String: String]) -> [String: Any] {
        var resource: [String: Any] = ["api_version": "2010-04-01", "capabilities": ["voice": true, "sms": true]]
        for (key, value) in fields { resource[key] = value.isEmpty ? NSNull() : value }
        return resource
    }

    private func authorized(_ request: Request) -> Bool {
        let expected = "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        guard request.headers[.authorization] == expected else {
            unauthorized.withLockedValue { $0 += 1 }
            return false
        }
        return true
    }

    static func decodeForm(_ text: String) -> [String: String] {
        var form: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            form[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return form
    }

    static func json(_ object: Any, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: Int, code: Int, message: String) -> Response {
        json(
            [
                "code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/\(code)",
                "status": status,
            ],
            status: .init(code: status))
    }
}
