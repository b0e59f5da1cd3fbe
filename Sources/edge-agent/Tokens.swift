import ArgumentParser
import EdgeAgent
import Foundation
import LocalStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `edge-agent tokens add | list | revoke | pin`: the staff admin API's bearer tokens.
struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make, list and revoke the staff admin API's tokens, and set their PINs.",
        discussion: """
            A token is shown once, when it is made; the box keeps only its SHA-256, so a lost token is \
            revoked and a new one made. Every change is in the audit log (actor "cli"), without the token \
            or PIN. These commands work beside a running agent. Exit codes: 0 when done, 1 when refused or \
            failed, 2 for a configuration error.
            """,
        subcommands: [Add.self, List.self, Revoke.self, PIN.self])

    /// What a token may do, as typed on the command line.
    enum RoleArgument: String, ExpressibleByArgument, CaseIterable {
        case staff
        case technician

        var role: AdminIdentity.Role {
            switch self {
            case .staff: .staff
            case .technician: .technician
            }
        }
    }

    /// The actor of every change made from the command line, in the audit log.
    static let actor = "cli"

    /// Opens the store beside a serving agent, runs `body`, closes it; an error is one line and exit 1.
    static func withTokens<T: Sendable>(
        _ options: Cache.Options, _ body: @Sendable (AdminTokens) async throws -> T
    ) async throws -> T {
        try await options.withApp(maintenance: false) { app in try await body(AdminTokens(database: app.database)) }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a token and print it, once.",
            discussion: """
                The token is printed alone on the last line and never again: give it to the person or \
                device now. Its name (1 to 40 letters, digits, spaces, '.', '_', '-') must not be taken by \
                a working token; a revoked token's name can be used again.
                """)

        @OptionGroup var options: Cache.Options

        @Option(name: .long, help: "What the token may do: staff or technician.")
        var role: RoleArgument

        @Argument(help: "A name for who holds the token, for example \"front desk\" or maria.")
        var name: String

        func run() async throws {
            let role = role.role
            let made = try await Tokens.withTokens(options) { tokens in
                try await tokens.add(name: name, role: role, actor: Tokens.actor)
            }
            print("token \"\(made.identity.name)\" (\(made.identity.role.rawValue)) made; it will not be shown again:")
            print(made.token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tokens, working and revoked (never a token or a hash).")

        @OptionGroup var options: Cache.Options

        @Flag(name: .long, help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            let summaries = try await Tokens.withTokens(options) { tokens in try await tokens.list() }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                FileHandle.standardOutput.write(try encoder.encode(summaries) + Data("\n".utf8))
                return
            }
            guard !summaries.isEmpty else {
                print("no tokens; make one with edge-agent tokens add --role staff NAME")
                return
            }
            let rows =
                [["NAME", "ROLE", "CREATED", "LAST USED", "PIN", "STATUS"]]
                + summaries.map { summary in
                    [
                        summary.name, summary.role.rawValue, Self.time(summary.createdAt),
                        summary.lastUsedAt.map(Self.time) ?? "never", summary.hasPIN ? "yes" : "no",
                        summary.revokedAt.map { "revoked " + Self.time($0) } ?? "working",
                    ]
                }
            let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                let padded = row.enumerated().map { column, text in
                    column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                }
                print(padded.joined(separator: "  "))
            }
        }

        /// `2026-12-01 12:00Z`.
        static func time(_ milliseconds: Int64) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm'Z'"
            return formatter.string(from: Date(unixMilliseconds: milliseconds))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token at once; its name can then be given to a new one.")

        @OptionGroup var options: Cache.Options

        @Argument(help: "The token's name, as tokens list shows it.")
        var name: String

        func run() async throws {
            try await Tokens.withTokens(options) { tokens in
                try await tokens.revoke(name: name, actor: Tokens.actor)
            }
            print("token \"\(name)\" revoked")
        }
    }

    struct PIN: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pin",
            abstract: "Set a token's PIN for the staff page's login, read from standard input.",
            discussion: """
                The PIN (4 to 8 digits) is read from the first line of standard input, so it never appears \
                in the shell's history or the process list: `edge-agent tokens pin maria` and type it, or \
                pipe it in. Only a slow salted hash is kept. --clear removes the PIN instead.
                """)

        @OptionGroup var options: Cache.Options

        @Flag(name: .long, help: "Remove the PIN (standard input is not read).")
        var clear = false

        @Argument(help: "The token's name, as tokens list shows it.")
        var name: String

        func run() async throws {
            var pin: String?
            if !clear {
                guard let line = Self.readPIN() else {
                    throw fail("no PIN on standard input: type it, or pipe it in (4 to 8 digits)", code: 1)
                }
                pin = line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            let chosen = pin
            try await Tokens.withTokens(options) { tokens in
                try await tokens.setPIN(name: name, pin: chosen, actor: Tokens.actor)
            }
            print(chosen == nil ? "PIN removed from token \"\(name)\"" : "PIN set for token \"\(name)\"")
        }

        /// The first line of standard input; typed at a terminal, it is asked for and not echoed.
        static func readPIN() -> String? {
            var saved = termios()
            guard isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 else {
                return readLine(strippingNewline: true)
            }
            FileHandle.standardError.write(Data("PIN (4 to 8 digits, not shown): ".utf8))
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
            defer {
                _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
            return readLine(strippingNewline: true)
        }
    }
}
