import Foundation
import GRDB
import LocalStore
import TestSupport
import Testing

/// `edge-agent tokens` run as a technician would, through the built binary.
@Suite("edge-agent tokens")
struct TokensCommandTests {
    /// Runs the binary with `input` on standard input (empty, closed, when nil).
    func run(_ arguments: [String], input: String? = nil, environment: [String: String], in folder: TemporaryFolder)
        async throws -> ChildProcess.Outcome
    {
        try await ChildProcess.run(
            CommandLineTests.binary, arguments, environment: environment, in: folder.path,
            input: Data((input ?? "").utf8))
    }

    @Test("add prints the token once on the last line; list hides hashes; pin from stdin; revoke; errors are one line")
    func tokensLifecycle() async throws {
        let folder = TemporaryFolder()
        let data = folder.file("data")
        let environment = ["EDGE_DATA_DIR": data]

        let add = try await run(
            ["tokens", "add", "--role", "staff", "front desk"], environment: environment, in: folder)
        #expect(add.status == 0, "\(add.standardError)")
        let lines = add.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first?.contains("will not be shown again") == true)
        let token = try #require(lines.last)
        #expect(token.hasPrefix("eat_") && token.count == 47)

        let duplicate = try await run(
            ["tokens", "add", "--role", "technician", "front desk"], environment: environment, in: folder)
        #expect(duplicate.status == 1)
        #expect(duplicate.standardError.hasPrefix("edge-agent: a token named front desk already exists"))
        #expect(duplicate.standardError.split(separator: "\n").count == 1)
        #expect(duplicate.standardOutput.isEmpty)

        let pin = try await run(["tokens", "pin", "front desk"], input: "4821\n", environment: environment, in: folder)
        #expect(pin.status == 0, "\(pin.standardError)")
        #expect(pin.standardOutput == "PIN set for token \"front desk\"\n")
        let badPIN = try await run(
            ["tokens", "pin", "front desk"], input: "12\n", environment: environment, in: folder)
        #expect(
            badPIN.status == 1 && badPIN.standardError == "edge-agent: a PIN is 4 to 8 digits (0-9), nothing else\n")
        let noPIN = try await run(["tokens", "pin", "front desk"], environment: environment, in: folder)
        #expect(noPIN.status == 1 && noPIN.standardError.contains("no PIN on standard input"))

        let table = try await run(["tokens", "list"], environment: environment, in: folder)
        #expect(table.status == 0, "\(table.standardError)")
        #expect(table.standardOutput.hasPrefix("NAME"))
        #expect(table.standardOutput.contains("front desk  staff"))
        #expect(table.standardOutput.contains("working"))

        let json = try await run(["tokens", "list", "--json"], environment: environment, in: folder)
        #expect(json.status == 0, "\(json.standardError)")
        let listed = try JSONDecoder().decode([AdminTokenSummary].self, from: Data(json.standardOutput.utf8))
        #expect(listed.map(\.name) == ["front desk"])
        #expect(listed.first?.hasPIN == true && listed.first?.revokedAt == nil)
        #expect(!json.standardOutput.contains("hash") && !json.standardOutput.contains(token))
        #expect(!json.standardOutput.contains("argon2"))

        // The token and PIN work against the store the commands wrote.
        let database = try EdgeDatabase(dataDirectory: data, logger: .init(label: "test"))
        let tokens = AdminTokens(database: database)
        #expect(try await tokens.authenticate(token: token)?.name == "front desk")
        #expect(try await tokens.authenticate(name: "front desk", pin: "4821")?.role == .staff)
        try database.close()

        let clear = try await run(["tokens", "pin", "--clear", "front desk"], environment: environment, in: folder)
        #expect(clear.status == 0 && clear.standardOutput == "PIN removed from token \"front desk\"\n")

        let revoke = try await run(["tokens", "revoke", "front desk"], environment: environment, in: folder)
        #expect(revoke.status == 0 && revoke.standardOutput == "token \"front desk\" revoked\n")
        let again = try await run(["tokens", "revoke", "front desk"], environment: environment, in: folder)
        #expect(again.status == 1)
        #expect(again.standardError == "edge-agent: no token named front desk; see edge-agent tokens list\n")

        let reopened = try EdgeDatabase(dataDirectory: data, logger: .init(label: "test"))
        #expect(try await AdminTokens(database: reopened).authenticate(token: token) == nil)
        let audit = try await reopened.read { db in
            try String.fetchAll(
                db, sql: "SELECT actor || ' ' || action FROM audit_log WHERE entity = 'admin_tokens' ORDER BY id")
        }
        let details = try await reopened.read { db in
            try String.fetchAll(db, sql: "SELECT details FROM audit_log").joined()
        }
        try reopened.close()
        #expect(audit == ["cli token.add", "cli token.pin_set", "cli token.pin_clear", "cli token.revoke"])
        #expect(!details.contains(token) && !details.contains("4821"))

        let badConfig = try await run(
            ["tokens", "list"], environment: ["EDGE_DATA_DIR": data, "EDGE_HTTP_PORT": "http"], in: folder)
        #expect(badConfig.status == 2 && badConfig.standardError.contains("EDGE_HTTP_PORT"))
    }
}
