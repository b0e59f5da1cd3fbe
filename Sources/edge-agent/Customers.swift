import ArgumentParser
import EdgeAgent
import Foundation
import LocalStore

/// `edge-agent customers export | erase`: privacy requests about one caller.
struct Customers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Privacy requests: everything held about a caller, or its erasure.",
        subcommands: [Export.self, Erase.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print everything the box holds about a caller as JSON.",
            discussion: """
                The profile, reservations, calls with their transcripts, tool calls and metrics, recordings' \
                metadata (the audio is encrypted to the owner: `recordings decrypt`) and messages. The export \
                is in the audit log.
                """)

        @OptionGroup var options: Cache.Options

        @Option(name: .long, help: "Write the JSON here (mode 0600) instead of standard output.")
        var out: String?

        @Argument(help: "The caller's phone number in E.164 form, for example +15551234567.")
        var phone: String

        func run() async throws {
            let json = try await options.withApp { app in
                let export = try await PrivacyRequests(database: app.database).export(phone: phone, actor: "technician")
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                return try encoder.encode(export) + Data("\n".utf8)
            }
            if let out {
                guard
                    FileManager.default.createFile(atPath: out, contents: json, attributes: [.posixPermissions: 0o600])
                else { throw fail("cannot write \(out)", code: 1) }
            } else {
                FileHandle.standardOutput.write(json)
            }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase everything held about a caller, recordings included, and tell headquarters.",
            discussion: """
                Removes the profile, the reservations made with that number, the calls from or to it with \
                their transcripts, the messages left in them or with that call-back number, and those calls' \
                recordings (the file's header is overwritten before it is deleted, so the sealed key is gone). \
                Unsent changes to those rows never leave the box; an erasure goes to headquarters instead. \
                Prints what was erased, as counts; the erasure is in the audit log.
                """)

        @OptionGroup var options: Cache.Options

        @Argument(help: "The caller's phone number in E.164 form, for example +15551234567.")
        var phone: String

        func run() async throws {
            let report = try await options.withApp { app in
                try await app.eraseCustomer(phone: phone, actor: "technician")
            }
            if report.isEmpty {
                print("nothing was held about that number; the request is in the audit log")
            } else {
                print(
                    "erased: \(report.customers) profile, \(report.reservations) reservations, \(report.calls) calls "
                        + "(\(report.turns) turns), \(report.recordings) recordings, \(report.messages) messages; "
                        + "headquarters is told at the next sync")
            }
        }
    }
}
