import Foundation
public import Logging
import NIOCore
import PostgresNIO
public import Sync

/// A site's Twilio account as headquarters holds it: what the box registered (the auth token opened
/// from its sealed column), its fields read straight off the account (`account.authToken`).
@dynamicMemberLookup
public struct SiteTwilioAccount: Sendable, Equatable {
    public var siteID: String
    /// The account as the box registered it.
    public var registration: TwilioRegistrationRequest
    /// The base URL Twilio was told to reach headquarters at; its signatures are checked against it.
    public var publicBase: String

    public subscript<Value>(dynamicMember field: KeyPath<TwilioRegistrationRequest, Value>) -> Value {
        registration[keyPath: field]
    }

    /// Where Twilio sends a call the box did not answer.
    public var fallbackURL: String { publicBase + TwilioFallbackRoutes.path(site: siteID) }
}

/// The `site_twilio` table: one Twilio account per site, its auth token sealed at rest.
public struct SiteTwilioAccounts: Sendable {
    let database: HQDatabase
    let sealer: SecretSealer?
    let logger: Logger

    public init(database: HQDatabase, secretsKey: [UInt8]?, logger: Logger) {
        self.database = database
        self.sealer = secretsKey.map(SecretSealer.init(key:))
        self.logger = logger
    }

    /// Checks `registration` and stores it for `site`, replacing the site's earlier account.
    public func register(site: String, _ registration: TwilioRegistrationRequest, publicBase: String) async throws
        -> SiteTwilioAccount
    {
        guard let sealer else {
            throw HQError(
                .serviceUnavailable, code: "secrets_key_missing",
                message:
                    "headquarters has no EDGE_HQ_SECRETS_KEY, so it cannot keep the Twilio token encrypted; set it (32 random bytes, base64) and restart edge-hq"
            )
        }
        try Self.validate(registration)
        let sealed = ByteBuffer(bytes: try sealer.seal(registration.authToken, boundTo: site))
        try await database.query(
            """
            INSERT INTO site_twilio (site_id, account_sid, auth_token_sealed, phone_number, landline, language,
                restaurant_name, public_base)
            VALUES (\(site), \(registration.accountSID), \(sealed), \(registration.phoneNumber), \(registration.landline),
                \(registration.language), \(registration.restaurantName), \(publicBase))
            ON CONFLICT (site_id) DO UPDATE SET account_sid = EXCLUDED.account_sid,
                auth_token_sealed = EXCLUDED.auth_token_sealed, phone_number = EXCLUDED.phone_number,
                landline = EXCLUDED.landline, language = EXCLUDED.language,
                restaurant_name = EXCLUDED.restaurant_name, public_base = EXCLUDED.public_base, updated_at = now()
            """, logger: logger)
        return SiteTwilioAccount(siteID: site, registration: registration, publicBase: publicBase)
    }

    /// The site's account, or nil when none is registered.
    public func account(site: String) async throws -> SiteTwilioAccount? {
        let rows = try await database.query(
            """
            SELECT account_sid, auth_token_sealed, phone_number, landline, language, restaurant_name, public_base
            FROM site_twilio WHERE site_id = \(site)
            """, logger: logger)
        for try await (account, sealed, phone, landline, language, name, base) in rows.decode(
            (String, ByteBuffer, String, String?, String, String, String).self)
        {
            guard let sealer else {
                throw HQError(
                    .serviceUnavailable, code: "secrets_key_missing",
                    message: "headquarters has no EDGE_HQ_SECRETS_KEY, so it cannot open the site's Twilio token")
            }
            let token: String
            do {
                token = try sealer.open(Array(sealed.readableBytesView), boundTo: site)
            } catch {
                throw HQError(
                    .serviceUnavailable, code: "secrets_key_mismatch",
                    message:
                        "the site's Twilio token does not open with this EDGE_HQ_SECRETS_KEY; restore the key, or register the number again from the box"
                )
            }
            let registration = TwilioRegistrationRequest(
                accountSID: account, authToken: token, phoneNumber: phone, landline: landline, language: language,
                restaurantName: name)
            return SiteTwilioAccount(siteID: site, registration: registration, publicBase: base)
        }
        return nil
    }

    static func validate(_ registration: TwilioRegistrationRequest) throws {
        func isHex(_ text: Substring) -> Bool { text.allSatisfy { $0.isHexDigit && !$0.isUppercase } }
        let sid = registration.accountSID
        guard sid.count == 34, sid.hasPrefix("AC"), isHex(sid.dropFirst(2)) else {
            throw HQError.badRequest("account_sid is not a Twilio account SID (AC and 32 hex digits)")
        }
        guard !registration.authToken.isEmpty, registration.authToken.count <= 128 else {
            throw HQError.badRequest("auth_token is empty or too long")
        }
        guard isE164(registration.phoneNumber) else {
            throw HQError.badRequest("phone_number is not an E.164 number (+ and 7 to 15 digits)")
        }
        if let landline = registration.landline, !isE164(landline) {
            throw HQError.badRequest("landline is not an E.164 number (+ and 7 to 15 digits)")
        }
        guard ["en", "es"].contains(registration.language) else {
            throw HQError.badRequest("language must be en or es")
        }
        guard !registration.restaurantName.isEmpty, registration.restaurantName.count <= 200 else {
            throw HQError.badRequest("restaurant_name is empty or longer than 200 characters")
        }
    }

    static func isE164(_ text: String) -> Bool {
        let digits = text.dropFirst()
        return text.first == "+" && (7...15).contains(digits.count) && digits.first != "0"
            && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
