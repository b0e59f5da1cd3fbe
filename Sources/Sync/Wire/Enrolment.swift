/// `POST /v1/enrol`: a box registers its own public key with a one-time token a technician made at
/// headquarters (`edge-hq enrol-token SITE`). The private key never leaves the box.
public struct EnrolmentRequest: Codable, Sendable, Equatable {
    public var token: String
    /// The box's Ed25519 public key, base64 (32 bytes).
    public var publicKey: String
    /// A name for staff lists (the host name).
    public var name: String

    public init(token: String, publicKey: String, name: String) {
        self.token = token
        self.publicKey = publicKey
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case token
        case publicKey = "public_key"
        case name
    }
}

/// Headquarters' answer to an enrolment: who the box is now, and for which site.
public struct EnrolmentResponse: Codable, Sendable, Equatable {
    public var deviceID: String
    public var siteID: String
    public var siteName: String

    public init(deviceID: String, siteID: String, siteName: String) {
        self.deviceID = deviceID
        self.siteID = siteID
        self.siteName = siteName
    }

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id"
        case siteID = "site_id"
        case siteName = "site_name"
    }
}
