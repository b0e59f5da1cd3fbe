import Crypto
public import Foundation
public import Logging
import PostgresNIO

/// Sites, their enrolment tokens and their devices: what `edge-hq sites`, `enrol-token` and
/// `devices` manage, and what enrolment and request checks read. Headquarters keeps only the boxes'
/// public keys, and only the SHA-256 of each enrolment token.
public struct SiteDirectory: Sendable {
    let database: HQDatabase
    let logger: Logger

    public init(database: HQDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public struct Site: Sendable, Equatable {
        public var id: String
        public var name: String
        public var createdAt: Date
    }

    public struct Device: Sendable, Equatable {
        public var id: String
        public var siteID: String
        public var name: String
        public var publicKey: [UInt8]
        public var enrolledAt: Date
        public var revokedAt: Date?
        public var lastSeenAt: Date?
    }

    /// A request refused because of what it asked; the message says what to do.
    public struct DirectoryError: Error, CustomStringConvertible, Sendable, Equatable {
        public enum Code: String, Sendable {
            case duplicateSite = "duplicate_site"
            case unknownSite = "unknown_site"
            case unknownDevice = "unknown_device"
            case invalidToken = "invalid_token"
            case invalidPublicKey = "invalid_public_key"
            case keyInUse = "key_in_use"
            case invalidRetention = "invalid_retention"
        }

        public let code: Code
        public let description: String
    }

    /// Creates a site; its id is a new UUID.
    public func addSite(name: String) async throws -> Site {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw DirectoryError(code: .unknownSite, description: "a site needs a name") }
        let id = UUID().uuidString.lowercased()
        do {
            let rows = try await database.query(
                "INSERT INTO sites (id, name) VALUES (\(id), \(name)) RETURNING created_at", logger: logger)
            for try await createdAt in rows.decode(Date.self) {
                return Site(id: id, name: name, createdAt: createdAt)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw DirectoryError(code: .duplicateSite, description: "a site named \(name) exists already")
        }
        throw DirectoryError(code: .unknownSite, description: "the site was not created")
    }

    public func sites() async throws -> [Site] {
        var sites: [Site] = []
        let rows = try await database.query(
            "SELECT id, name, created_at FROM sites ORDER BY name", logger: logger)
        for try await (id, name, createdAt) in rows.decode((String, String, Date).self) {
            sites.append(Site(id: id, name: name, createdAt: createdAt))
        }
        return sites
    }

    /// The site with this id, or with this name.
    public func site(_ idOrName: String) async throws -> Site? {
        let rows = try await database.query(
            "SELECT id, name, created_at FROM sites WHERE id = \(idOrName) OR name = \(idOrName) LIMIT 1",
            logger: logger)
        for try await (id, name, createdAt) in rows.decode((String, String, Date).self) {
            return Site(id: id, name: name, createdAt: createdAt)
        }
        return nil
    }

    /// A one-time enrolment token for `site`, valid for `validFor`: `et_` and 32 random bytes, base64url.
    /// Only its SHA-256 is stored.
    public func makeEnrolmentToken(site: String, validFor: Duration) async throws -> (token: String, expiresAt: Date) {
        guard let site = try await self.site(site) else {
            throw DirectoryError(code: .unknownSite, description: "no site \(site); see `edge-hq sites list`")
        }
        // The prefix names what it is, and keeps a token from starting with "-" on a command line.
        let token = "et_" + Self.base64URL(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        let hash = Self.sha256(token)
        let expiresAt = Date().addingTimeInterval(Double(validFor.components.seconds))
        try await database.query(
            """
            INSERT INTO enrolment_tokens (token_sha256, site_id, expires_at)
            VALUES (\(hash), \(site.id), \(expiresAt))
            """, logger: logger)
        return (token, expiresAt)
    }

    /// Uses a token once: registers `publicKey` as a new device of the token's site, in one
    /// transaction with the token's use. A used, expired or unknown token gives the same answer.
    public func enrol(token: String, publicKey: [UInt8], name: String) async throws -> (Device, Site) {
        guard publicKey.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil else {
            throw DirectoryError(code: .invalidPublicKey, description: "the public key must be 32 bytes of Ed25519")
        }
        let hash = Self.sha256(token)
        let deviceID = UUID().uuidString.lowercased()
        let name = String(name.prefix(200))
        let key = ByteBuffer(bytes: publicKey)
        return try await database.transaction { connection in
            var siteID: String?
            for try await id in try await connection.query(
                """
                SELECT site_id FROM enrolment_tokens
                WHERE token_sha256 = \(hash) AND used_at IS NULL AND expires_at > now() FOR UPDATE
                """, logger: logger
            ).decode(String.self) {
                siteID = id
            }
            guard let siteID else {
                throw DirectoryError(
                    code: .invalidToken,
                    description:
                        "the enrolment token is unknown, used or expired; make a new one with `edge-hq enrol-token`")
            }
            do {
                try await connection.query(
                    "INSERT INTO devices (id, site_id, public_key, name) VALUES (\(deviceID), \(siteID), \(key), \(name))",
                    logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                throw DirectoryError(code: .keyInUse, description: "this public key is enrolled already")
            }
            try await connection.query(
                "UPDATE enrolment_tokens SET used_at = now(), device_id = \(deviceID) WHERE token_sha256 = \(hash)",
                logger: logger)
            var site: Site?
            for try await (id, siteName, createdAt) in try await connection.query(
                "SELECT id, name, created_at FROM sites WHERE id = \(siteID)", logger: logger
            ).decode((String, String, Date).self) {
                site = Site(id: id, name: siteName, createdAt: createdAt)
            }
            let device = Device(
                id: deviceID, siteID: siteID, name: name, publicKey: publicKey, enrolledAt: Date(), revokedAt: nil,
                lastSeenAt: nil)
            return (device, site!)
        }
    }

    public func device(id: String) async throws -> Device? {
        let rows = try await database.query(
            """
            SELECT id, site_id, name, public_key, enrolled_at, revoked_at, last_seen_at FROM devices
            WHERE id = \(id)
            """, logger: logger)
        for try await row in rows.decode((String, String, String, ByteBuffer, Date, Date?, Date?).self) {
            return Self.device(row)
        }
        return nil
    }

    /// Every device, by site then enrolment.
    public func devices() async throws -> [Device] {
        var devices: [Device] = []
        let rows = try await database.query(
            """
            SELECT d.id, d.site_id, d.name, d.public_key, d.enrolled_at, d.revoked_at, d.last_seen_at
            FROM devices d JOIN sites s ON s.id = d.site_id ORDER BY s.name, d.enrolled_at
            """, logger: logger)
        for try await row in rows.decode((String, String, String, ByteBuffer, Date, Date?, Date?).self) {
            devices.append(Self.device(row))
        }
        return devices
    }

    /// Revokes a device: every later request it signs is refused.
    /// Keeps `site`'s recordings at headquarters for `days` (1 to 3650); nil goes back to
    /// `EDGE_HQ_RECORDING_RETENTION_DAYS`.
    public func setRecordingRetention(site: String, days: Int?) async throws {
        if let days, !(1...3650).contains(days) {
            throw DirectoryError(code: .invalidRetention, description: "a retention is 1 to 3650 days, not \(days)")
        }
        let rows = try await database.query(
            "UPDATE sites SET recording_retention_days = \(days) WHERE id = \(site) RETURNING id", logger: logger)
        var found = false
        for try await _ in rows.decode(String.self) { found = true }
        guard found else {
            throw DirectoryError(code: .unknownSite, description: "no site \(site); see `edge-hq sites list`")
        }
    }

    public func revoke(deviceID: String) async throws {
        let rows = try await database.query(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(deviceID) RETURNING id",
            logger: logger)
        var found = false
        for try await _ in rows.decode(String.self) { found = true }
        guard found else {
            throw DirectoryError(code: .unknownDevice, description: "no device \(deviceID); see `edge-hq devices list`")
        }
    }

    private static func device(_ row: (String, String, String, ByteBuffer, Date, Date?, Date?)) -> Device {
        Device(
            id: row.0, siteID: row.1, name: row.2, publicKey: Array(row.3.readableBytesView), enrolledAt: row.4,
            revokedAt: row.5, lastSeenAt: row.6)
    }

    static func sha256(_ token: String) -> ByteBuffer {
        ByteBuffer(bytes: Array(SHA256.hash(data: Data(token.utf8))))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
