import Foundation
import GRDB
import Testing

@testable import LocalStore

@Suite("Admin tokens")
struct AdminTokensTests {
    func auditActions(_ store: TestStore) async throws -> [String] {
        try await store.database.read { db in
            try String.fetchAll(
                db, sql: "SELECT actor || ' ' || action FROM audit_log WHERE entity = 'admin_tokens' ORDER BY id")
        }
    }

    @Test("a token is shown once, stored only as its SHA-256, and authenticates until revoked")
    func addAuthenticateRevoke() async throws {
        let store = try TestStore()
        let tokens = AdminTokens(database: store.database)
        let (identity, token) = try await tokens.add(name: "front desk", role: .staff, actor: "cli")
        #expect(identity.name == "front desk" && identity.role == .staff)
        #expect(token.hasPrefix("eat_") && token.count == 47)
        #expect(token.dropFirst(4).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })

        let hash = try await store.database.read { db in
            try String.fetchOne(db, sql: "SELECT token_hash FROM admin_tokens")!
        }
        #expect(hash != token && hash.count == 64)
        #expect(hash == (try SecretHashing.sha256Hex(token)))
        #expect(hash.allSatisfy { "0123456789abcdef".contains($0) })
        // The token appears nowhere in the database, audit log included.
        let everything = try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT details FROM audit_log")
                + (try Row.fetchAll(db, sql: "SELECT * FROM admin_tokens").map { "\($0)" as String })
        }
        #expect(!everything.joined().contains(token) && !everything.joined().contains(token.dropFirst(4)))

        #expect(try await tokens.authenticate(token: token) == identity)
        #expect(try await tokens.authenticate(token: "eat_" + String(repeating: "A", count: 43)) == nil)
        #expect(try await tokens.authenticate(token: String(token.dropLast())) == nil)
        #expect(try await tokens.authenticate(token: "") == nil)

        try await tokens.revoke(name: "front desk", actor: "cli")
        #expect(try await tokens.authenticate(token: token) == nil)
        let listed = try await tokens.list()
        #expect(listed.count == 1)
        #expect(listed[0].revokedAt == referenceNow.unixMilliseconds)
        #expect(listed[0].lastUsedAt == referenceNow.unixMilliseconds)
        #expect(try await auditActions(store) == ["cli token.add", "cli token.revoke"])
    }

    @Test("last_used_at is written at most once a minute")
    func lastUsedThrottle() async throws {
        let store = try TestStore()
        let tokens = AdminTokens(database: store.database)
        let (_, token) = try await tokens.add(name: "maria", role: .technician, actor: "cli")
        #expect(try await tokens.list()[0].lastUsedAt == nil)
        _ = try await tokens.authenticate(token: token)
        let first = referenceNow.unixMilliseconds
        store.clock.set(referenceNow.addingTimeInterval(59))
        _ = try await tokens.authenticate(token: token)
        #expect(try await tokens.list()[0].lastUsedAt == first)
        store.clock.set(referenceNow.addingTimeInterval(60))
        _ = try await tokens.authenticate(token: token)
        #expect(try await tokens.list()[0].lastUsedAt == first + 60_000)
    }

    @Test("names: a working name is refused, a revoked one reused (the old row kept, renamed); bad names refused")
    func names() async throws {
        let store = try TestStore()
        let tokens = AdminTokens(database: store.database)
        let (old, oldToken) = try await tokens.add(name: "bar", role: .staff, actor: "cli")
        await #expect {
            try await tokens.add(name: "bar", role: .technician, actor: "cli")
        } throws: { error in
            let error = error as? AdminTokenError
            return error?.code == .duplicateName && error?.message.contains("already exists") == true
        }
        try await tokens.revoke(name: "bar", actor: "cli")
        let (new, newToken) = try await tokens.add(name: "bar", role: .technician, actor: "cli")
        #expect(new.id != old.id && new.name == "bar")
        #expect(try await tokens.authenticate(token: newToken) == new)
        #expect(try await tokens.authenticate(token: oldToken) == nil)
        let listed = try await tokens.list()
        #expect(listed.map(\.name) == ["bar (revoked \(old.id))", "bar"])
        #expect(listed.map(\.role) == [.staff, .technician])

        for bad in ["", "   ", String(repeating: "a", count: 41), "bar/baz", "drop;table", "a\nb"] {
            await #expect {
                try await tokens.add(name: bad, role: .staff, actor: "cli")
            } throws: { ($0 as? AdminTokenError)?.code == .invalidName }
        }
        _ = try await tokens.add(name: String(repeating: "é", count: 40), role: .staff, actor: "cli")
        _ = try await tokens.add(name: "Kitchen 2.night_shift-B", role: .staff, actor: "cli")

        await #expect {
            try await tokens.revoke(name: "nobody", actor: "cli")
        } throws: { "\($0)" == "no token named nobody; see edge-agent tokens list" }
        #expect(try await store.count("admin_tokens") == 4)
    }

    @Test("a PIN logs in by name; wrong, cleared or revoked gives nil; only its slow hash is stored")
    func pins() async throws {
        let store = try TestStore()
        let tokens = AdminTokens(database: store.database)
        let (identity, _) = try await tokens.add(name: "maria", role: .staff, actor: "cli")
        #expect(try await tokens.authenticate(name: "maria", pin: "1234") == nil)  // no PIN yet

        try await tokens.setPIN(name: "maria", pin: "4821", actor: "cli")
        let hash = try await store.database.read { db in
            try String.fetchOne(db, sql: "SELECT pin_hash FROM admin_tokens")
        }
        #expect(hash?.hasPrefix("$argon2id$") == true)
        #expect(hash?.contains("4821") == false)
        #expect(try await tokens.list()[0].hasPIN)

        #expect(try await tokens.authenticate(name: "maria", pin: "4821") == identity)
        #expect(try await tokens.authenticate(name: "maria", pin: "4822") == nil)
        #expect(try await tokens.authenticate(name: "maria", pin: "") == nil)
        #expect(try await tokens.authenticate(name: "mario", pin: "4821") == nil)

        for bad in ["123", "123456789", "12a4", " 1234", "１２３４"] {
            await #expect {
                try await tokens.setPIN(name: "maria", pin: bad, actor: "cli")
            } throws: { ($0 as? AdminTokenError)?.code == .invalidPIN }
        }
        await #expect {
            try await tokens.setPIN(name: "nobody", pin: "1234", actor: "cli")
        } throws: { ($0 as? AdminTokenError)?.code == .notFound }

        try await tokens.setPIN(name: "maria", pin: nil, actor: "cli")
        #expect(try await tokens.authenticate(name: "maria", pin: "4821") == nil)
        #expect(try await !tokens.list()[0].hasPIN)

        try await tokens.setPIN(name: "maria", pin: "00000000", actor: "staff-page")
        #expect(try await tokens.authenticate(name: "maria", pin: "00000000") == identity)
        try await tokens.revoke(name: "maria", actor: "cli")
        #expect(try await tokens.authenticate(name: "maria", pin: "00000000") == nil)

        #expect(
            try await auditActions(store) == [
                "cli token.add", "cli token.pin_set", "cli token.pin_clear", "staff-page token.pin_set",
                "cli token.revoke",
            ])
        let details = try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT details FROM audit_log").joined()
        }
        #expect(!details.contains("4821") && !details.contains("00000000"))
    }
}
