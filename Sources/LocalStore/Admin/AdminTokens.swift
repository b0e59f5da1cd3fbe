public import ErrorCodes
import Foundation
import GRDB

/// Who is using the staff admin API: a named token and what it may do.
public struct AdminIdentity: Sendable, Equatable {
    /// What a token may do.
    public enum Role: String, Sendable, Codable, CaseIterable {
        /// The restaurant's staff: messages, calls, reservations, the menu for the night.
        case staff
        /// The installer or support: everything staff may do, and the box's maintenance.
        case technician
    }

    /// The token's id (the `entity_id` of its audit entries).
    public var id: String
    /// The name given when the token was made, for example `front desk` or `maria`.
    public var name: String
    public var role: Role

    public init(id: String, name: String, role: Role) {
        self.id = id
        self.name = name
        self.role = role
    }
}

/// One token as `tokens list` shows it: never its hash or its PIN's.
public struct AdminTokenSummary: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var role: AdminIdentity.Role
    /// Unix milliseconds, like every time.
    public var createdAt: Int64
    /// When the token was last accepted (kept to the minute), nil when never.
    public var lastUsedAt: Int64?
    /// When it was revoked, nil while it works.
    public var revokedAt: Int64?
    /// Whether a PIN is set for the staff page's login.
    public var hasPIN: Bool

    public init(
        id: String, name: String, role: AdminIdentity.Role, createdAt: Int64, lastUsedAt: Int64?, revokedAt: Int64?,
        hasPIN: Bool
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.hasPIN = hasPIN
    }

    enum CodingKeys: String, CodingKey {
        case id
        case name
        case role
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case revokedAt = "revoked_at"
        case hasPIN = "has_pin"
    }
}

/// Why a token could not be made, revoked or given a PIN; messages hold no token or PIN.
public typealias AdminTokenError = CodedError<AdminTokenErrorDomain>

/// The domain of ``AdminTokenError``'s codes (never made; it keeps them apart from other errors' codes).
public enum AdminTokenErrorDomain {}

extension AdminTokenError.Code {
    /// The name is empty, too long, or has characters other than letters, digits, space, `.`, `_`, `-`.
    public static var invalidName: Self { Self("invalid_name") }
    /// A working token already has that name.
    public static var duplicateName: Self { Self("duplicate_name") }
    /// No token has that name.
    public static var notFound: Self { Self("not_found") }
    /// The PIN is not 4 to 8 digits.
    public static var invalidPIN: Self { Self("invalid_pin") }
    /// libsodium failed (hashing, random bytes).
    public static var crypto: Self { Self("crypto") }
}

/// The staff admin API's bearer tokens, made and revoked by `edge-agent tokens`.
///
/// A token is `eat_` and 43 base64url characters (32 random bytes); it is shown once, when made, and
/// only its SHA-256 is stored, so a copy of the database does not let anyone in. A token may also have
/// a PIN (4 to 8 digits) for the staff page's login by name; it is stored as an Argon2id hash
/// (libsodium's `crypto_pwhash_str`, checked in constant time). Making, revoking and setting a PIN
/// are audited under the given actor, with neither the token nor the PIN.
///
/// A revoked token keeps its row (its audit entries still name it), renamed `NAME (revoked ID)`
/// when a new token takes its name, so the name can be reused.
public struct AdminTokens: Sendable {
    let database: EdgeDatabase

    public init(database: EdgeDatabase) {
        self.database = database
    }

    /// The text every token starts with.
    public static let tokenPrefix = "eat_"
    /// `last_used_at` is written at most this often per token.
    public static let lastUsedResolutionMilliseconds: Int64 = 60_000
    /// The longest name.
    public static let maximumNameLength = 40

    /// Makes a token named `name` with `role`; returns its identity and the token, which is never
    /// stored nor shown again. Throws ``AdminTokenError`` for a bad name or one a working token has.
    public func add(name: String, role: AdminIdentity.Role, actor: String) async throws
        -> (identity: AdminIdentity, token: String)
    {
        let name = try Self.validName(name)
        let token = Self.tokenPrefix + SecretHashing.base64URL(try SecretHashing.randomBytes(32))
        let hash = try SecretHashing.sha256Hex(token)
        let now = database.clock.nowMilliseconds()
        let row = AdminTokenRow(
            id: UUID().uuidString.lowercased(), name: name, role: role, tokenHash: hash, pinHash: nil, createdAt: now,
            lastUsedAt: nil, revokedAt: nil)
        try await database.write { db in
            if var existing = try AdminTokenRow.filter(Column("name") == name).fetchOne(db) {
                guard existing.revokedAt != nil else {
                    throw AdminTokenError(
                        .duplicateName,
                        "a token named \(name) already exists; choose another name, or revoke it first "
                            + "(edge-agent tokens revoke \(name))")
                }
                existing.name = "\(name) (revoked \(existing.id))"
                try existing.update(db)
            }
            try row.insert(db)
            try AuditLog.record(
                actor: actor, action: "token.add", entity: AdminTokenRow.databaseTableName, entityID: row.id,
                details: ["role": role.rawValue], at: now, in: db)
        }
        return (row.identity, token)
    }

    /// Every token, working or revoked, oldest first; never a hash.
    public func list() async throws -> [AdminTokenSummary] {
        try await database.read { db in
            try AdminTokenRow.order(Column("created_at"), Column.rowID).fetchAll(db).map(\.summary)
        }
    }

    /// Revokes the working token named `name` at once. Throws ``AdminTokenError/Code/notFound`` when
    /// no working token has that name (revoking twice is an error too, so a typo is not silent).
    public func revoke(name: String, actor: String) async throws {
        try await changeWorkingToken(name: name, actor: actor, action: "token.revoke") { row, now in
            row.revokedAt = now
            return ["role": row.role.rawValue]
        }
    }

    /// Sets the PIN (4 to 8 digits) of the working token named `name` for the staff page's login, or
    /// removes it with nil. Only an Argon2id hash of the PIN is stored.
    public func setPIN(name: String, pin: String?, actor: String) async throws {
        var hash: String?
        if let pin {
            guard Self.isValidPIN(pin) else {
                throw AdminTokenError(.invalidPIN, "a PIN is 4 to 8 digits (0-9), nothing else")
            }
            hash = try await SecretHashing.offCooperativePool { try SecretHashing.slowHash(pin) }
        }
        let chosen = hash
        let action = chosen == nil ? "token.pin_clear" : "token.pin_set"
        try await changeWorkingToken(name: name, actor: actor, action: action) { row, _ in
            row.pinHash = chosen
            return [:]
        }
    }

    /// Changes the working token named `name` and audits the change as `action`, in one transaction;
    /// `change` is handed the row and the time, and returns the audit entry's details.
    private func changeWorkingToken(
        name: String, actor: String, action: String,
        _ change: @escaping @Sendable (inout AdminTokenRow, Int64) -> [String: String]
    ) async throws {
        let name = name.trimmingCharacters(in: .whitespaces)
        let now = database.clock.nowMilliseconds()
        try await database.write { db in
            var row = try Self.working(name: name, in: db)
            let details = change(&row, now)
            try row.update(db)
            try AuditLog.record(
                actor: actor, action: action, entity: AdminTokenRow.databaseTableName, entityID: row.id,
                details: details, at: now, in: db)
        }
    }

    /// The identity `token` stands for; nil for an unknown, malformed or revoked token. Notes the use
    /// in `last_used_at`, at most once a minute per token.
    public func authenticate(token: String) async throws -> AdminIdentity? {
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count == Self.tokenPrefix.utf8.count + 43 else {
            return nil
        }
        let hash = try SecretHashing.sha256Hex(token)
        let row = try await database.read { db in
            try AdminTokenRow.filter(Column("token_hash") == hash && Column("revoked_at") == nil).fetchOne(db)
        }
        guard let row else { return nil }
        try await noteUse(of: row)
        return row.identity
    }

    /// Whether the token with `id` still works (not revoked, not gone): a staff page session is only as
    /// good as the token it was opened with, so each use of the session asks.
    public func isActive(id: String) async throws -> Bool {
        try await database.read { db in
            try AdminTokenRow.filter(Column("id") == id && Column("revoked_at") == nil).fetchCount(db) == 1
        }
    }

    /// The identity of the working token named `name` whose PIN is `pin`; nil when the name is
    /// unknown or revoked, no PIN is set, or the PIN is wrong. Takes as long whichever it is.
    public func authenticate(name: String, pin: String) async throws -> AdminIdentity? {
        let name = name.trimmingCharacters(in: .whitespaces)
        let row = try await database.read { db in
            try AdminTokenRow.filter(Column("name") == name && Column("revoked_at") == nil).fetchOne(db)
        }
        // Without a stored hash, a decoy is checked, so a wrong name takes as long as a wrong PIN.
        let stored = row?.pinHash
        let matches = try await SecretHashing.offCooperativePool {
            SecretHashing.verifySlowHash(pin, hash: stored ?? SecretHashing.decoyHash) && stored != nil
        }
        guard matches, let row else { return nil }
        try await noteUse(of: row)
        return row.identity
    }

    /// Writes `last_used_at` when it is unset or a minute old (the condition is re-checked in the write).
    private func noteUse(of row: AdminTokenRow) async throws {
        let now = database.clock.nowMilliseconds()
        let due = now - Self.lastUsedResolutionMilliseconds
        if let last = row.lastUsedAt, last > due { return }
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE admin_tokens SET last_used_at = ?
                    WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)
                    """,
                arguments: [now, row.id, due])
        }
    }

    private static func working(name: String, in db: Database) throws -> AdminTokenRow {
        guard let row = try AdminTokenRow.filter(Column("name") == name && Column("revoked_at") == nil).fetchOne(db)
        else {
            throw AdminTokenError(.notFound, "no token named \(name); see edge-agent tokens list")
        }
        return row
    }

    /// `name` without surrounding spaces, or a typed error.
    static func validName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespaces)
        let allowed = name.allSatisfy { $0.isLetter || ("0"..."9").contains($0) || " ._-".contains($0) }
        guard !name.isEmpty, name.count <= maximumNameLength, allowed else {
            throw AdminTokenError(
                .invalidName,
                "a token name is 1 to \(maximumNameLength) letters, digits, spaces, '.', '_' or '-', "
                    + "for example \"front desk\"")
        }
        return name
    }

    static func isValidPIN(_ pin: String) -> Bool {
        (4...8).contains(pin.utf8.count) && pin.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}

/// A row of `admin_tokens`.
struct AdminTokenRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "admin_tokens"

    var id: String
    var name: String
    var role: AdminIdentity.Role
    var tokenHash: String
    var pinHash: String?
    var createdAt: Int64
    var lastUsedAt: Int64?
    var revokedAt: Int64?

    var identity: AdminIdentity { AdminIdentity(id: id, name: name, role: role) }

    var summary: AdminTokenSummary {
        AdminTokenSummary(
            id: id, name: name, role: role, createdAt: createdAt, lastUsedAt: lastUsedAt, revokedAt: revokedAt,
            hasPIN: pinHash != nil)
    }

    enum CodingKeys: String, CodingKey {
        case id
        case name
        case role
        case tokenHash = "token_hash"
        case pinHash = "pin_hash"
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case revokedAt = "revoked_at"
    }
}
