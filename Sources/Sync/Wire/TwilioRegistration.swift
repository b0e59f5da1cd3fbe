/// `PUT /v1/device/twilio` (signed by the box): the site's Twilio account, so headquarters can check
/// the signature of Twilio's fallback requests, answer them, and fetch the voicemails callers leave.
/// Headquarters keeps the auth token encrypted at rest and never sends it back.
public struct TwilioRegistrationRequest: Codable, Sendable, Equatable {
    public var accountSID: String
    public var authToken: String
    /// The restaurant's Twilio number, E.164.
    public var phoneNumber: String
    /// The restaurant's own line, dialled when the box cannot answer; none: straight to voicemail.
    public var landline: String?
    /// The language callers are answered in when nothing says otherwise (`en` or `es`).
    public var language: String
    /// The restaurant's name, as the fallback message says it.
    public var restaurantName: String

    public init(
        accountSID: String, authToken: String, phoneNumber: String, landline: String?, language: String,
        restaurantName: String
    ) {
        self.accountSID = accountSID
        self.authToken = authToken
        self.phoneNumber = phoneNumber
        self.landline = landline
        self.language = language
        self.restaurantName = restaurantName
    }

    enum CodingKeys: String, CodingKey {
        case accountSID = "account_sid"
        case authToken = "auth_token"
        case phoneNumber = "phone_number"
        case landline
        case language
        case restaurantName = "restaurant_name"
    }
}

/// Headquarters' answer: the URL to set as the number's `VoiceFallbackUrl` (method POST).
public struct TwilioRegistrationResponse: Codable, Sendable, Equatable {
    public var fallbackURL: String

    public init(fallbackURL: String) {
        self.fallbackURL = fallbackURL
    }

    enum CodingKeys: String, CodingKey {
        case fallbackURL = "fallback_url"
    }
}
