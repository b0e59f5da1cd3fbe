import AsyncHTTPClient
import Foundation
import NIOCore

/// One of the account's phone numbers, as Twilio's `IncomingPhoneNumbers` resource describes it.
public struct IncomingPhoneNumber: Sendable, Equatable, Decodable {
    /// `PN…`: the number's resource id.
    public let sid: String
    public let accountSID: String
    /// E.164, for example `+15558675309`.
    public let phoneNumber: String
    /// Where Twilio asks what to do with an incoming call.
    public let voiceURL: String?
    public let voiceMethod: String?
    /// Where Twilio asks when the voice URL does not answer (the box offline): headquarters.
    public let voiceFallbackURL: String?
    public let voiceFallbackMethod: String?

    enum CodingKeys: String, CodingKey {
        case sid
        case accountSID = "account_sid"
        case phoneNumber = "phone_number"
        case voiceURL = "voice_url"
        case voiceMethod = "voice_method"
        case voiceFallbackURL = "voice_fallback_url"
        case voiceFallbackMethod = "voice_fallback_method"
    }

    public init(
        sid: String, accountSID: String, phoneNumber: String, voiceURL: String?, voiceMethod: String?,
        voiceFallbackURL: String?, voiceFallbackMethod: String?
    ) {
        self.sid = sid
        self.accountSID = accountSID
        self.phoneNumber = phoneNumber
        self.voiceURL = voiceURL
        self.voiceMethod = voiceMethod
        self.voiceFallbackURL = voiceFallbackURL
        self.voiceFallbackMethod = voiceFallbackMethod
    }
}

extension TwilioRESTClient {
    /// The account's number `phoneNumber` (E.164), or nil when this account does not hold it (a number
    /// of another account is not listed: Twilio filters the list by the authenticated account).
    /// `GET …/IncomingPhoneNumbers.json?PhoneNumber=…`.
    public func incomingPhoneNumber(_ phoneNumber: String) async throws -> IncomingPhoneNumber? {
        let query = Self.encode([("PhoneNumber", phoneNumber)])
        let request = authorizedRequest("IncomingPhoneNumbers.json?\(query)")
        let response = try await http.execute(request, timeout: timeout)
        try await Self.check(response)
        let body = try await response.body.collect(upTo: 1024 * 1024)
        struct Page: Decodable {
            let incomingPhoneNumbers: [IncomingPhoneNumber]
            enum CodingKeys: String, CodingKey { case incomingPhoneNumbers = "incoming_phone_numbers" }
        }
        let page = try JSONDecoder().decode(Page.self, from: Data(buffer: body))
        return page.incomingPhoneNumbers.first { $0.phoneNumber == phoneNumber }
    }

    /// Points the number's calls at `voiceURL`, and at `fallbackURL` when the voice URL fails (both
    /// with POST). `POST …/IncomingPhoneNumbers/{PN…}.json`; the same update twice has the same effect.
    public func configure(
        number sid: String, voiceURL: String, fallbackURL: String?
    ) async throws -> IncomingPhoneNumber {
        var form = [("VoiceUrl", voiceURL), ("VoiceMethod", "POST")]
        if let fallbackURL { form += [("VoiceFallbackUrl", fallbackURL), ("VoiceFallbackMethod", "POST")] }
        var request = authorizedRequest("IncomingPhoneNumbers/\(sid).json")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        let response = try await http.execute(request, timeout: timeout)
        try await Self.check(response)
        let body = try await response.body.collect(upTo: 1024 * 1024)
        return try JSONDecoder().decode(IncomingPhoneNumber.self, from: Data(buffer: body))
    }
}
