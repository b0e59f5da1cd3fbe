import ArgumentParser
import EdgeAgent
import Foundation
import LocalStore
import SyncAgent

/// `edge-agent provision`: enrol this box at headquarters.
struct Provision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enrol this box at headquarters with a one-time token; point the Twilio number at it.",
        discussion: """
            --hq and --token: makes the box's own key pair under EDGE_DATA_DIR/secrets (the private key never \
            leaves the box), registers the public key with the token from `edge-hq enrol-token SITE`, and stores \
            headquarters' URL, the site and --ca for `serve` and `sync` (EDGE_HQ_URL still overrides the URL).

            --twilio-number: looks the number up in the Twilio account (TWILIO_ACCOUNT_SID), gives headquarters \
            the account so it can answer the number while this box cannot, and sets the number's VoiceUrl to \
            EDGE_PUBLIC_URL/twilio/voice and its VoiceFallbackUrl to headquarters. Both may be given at once.
            """)

    @OptionGroup var options: Cache.Options

    @Option(name: .long, help: "Headquarters' URL, for example https://hq.example.com:8443.")
    var hq: String?

    @Option(name: .long, help: "The one-time enrolment token.")
    var token: String?

    @Option(name: .long, help: "A PEM file of the CA that signed headquarters' certificate (when not a public CA).")
    var ca: String?

    @Flag(name: .long, help: "Enrol again with a new key pair, though the box is enrolled.")
    var force = false

    @Option(name: .customLong("twilio-number"), help: "The restaurant's Twilio number, E.164 (+15558675309).")
    var twilioNumber: String?

    func validate() throws {
        guard (hq == nil) == (token == nil) else { throw ValidationError("--hq and --token go together") }
        guard hq != nil || twilioNumber != nil else {
            throw ValidationError("give --hq URL --token TOKEN, --twilio-number NUMBER, or both")
        }
        if let hq {
            guard let url = URL(string: hq), ["https", "http"].contains(url.scheme), url.host != nil else {
                throw ValidationError("--hq must be an https:// URL")
            }
        }
    }

    func run() async throws {
        if let hq, let token { try await enrol(hq: hq, token: token) }
        if let twilioNumber {
            let number = try await options.withApp { app in
                try await TwilioNumberProvisioning(app: app).provision(number: twilioNumber)
            }
            print(
                "\(number.phoneNumber) calls \(number.voiceURL), and \(number.fallbackURL ?? "nothing") when this box cannot answer"
            )
        }
    }

    private func enrol(hq: String, token: String) async throws {
        var pem: String?
        if let ca {
            guard let text = try? String(contentsOfFile: ca, encoding: .utf8), text.contains("BEGIN CERTIFICATE") else {
                throw fail("cannot read a PEM certificate from \(ca)", code: 1)
            }
            pem = text
        }
        let (dataDirectory, logger) = try await options.withApp { app in (app.configuration.dataDirectory, app.logger) }
        do {
            let link = try await Provisioning.provision(
                dataDirectory: dataDirectory, headquartersURL: hq, token: token, caCertificatePEM: pem,
                name: ProcessInfo.processInfo.hostName, force: force, logger: logger)
            print("enrolled as device \(link.deviceID) of site \(link.siteName) (\(link.siteID))")
        } catch {
            throw fail(error.description, code: 1)
        }
    }
}

/// `edge-agent sync now | status`.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Sync with headquarters now, or show how it stands.",
        subcommands: [Now.self, Status.self])

    struct Now: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send everything waiting for headquarters; exit 0 only when the backlog is empty.")

        @OptionGroup var options: Cache.Options

        func run() async throws {
            let (round, status) = try await options.withApp { app in
                guard let worker = app.makeSyncWorker() else {
                    throw fail(
                        "this box is not enrolled at headquarters; run edge-agent provision --hq URL --token TOKEN",
                        code: 1)
                }
                return (try await worker.runOnce(), try await SyncState(database: app.database).status())
            }
            let report = round.upload
            print(
                "sent \(report.sent) changes in \(report.batches) batches (\(report.superseded) already newer at headquarters, \(report.rejected) rejected); received \(round.download.applied); \(round.recordings.uploaded) recordings uploaded; backlog \(status.backlog)"
            )
            if status.backlog > 0 { throw ExitCode(1) }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Backlog size and oldest age, last success, last error.")

        @OptionGroup var options: Cache.Options

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            let (status, link) = try await options.withApp { app in
                let link = try? HeadquartersLink.load(
                    dataDirectory: app.configuration.dataDirectory,
                    urlOverride: app.configuration.headquartersURL?.absoluteString)
                return (try await SyncState(database: app.database).status(), link)
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
                return
            }
            let format = ISO8601DateFormatter()
            func date(_ milliseconds: Int64?) -> String {
                milliseconds.map { format.string(from: Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "never"
            }
            print(
                "headquarters: \(link.map { "\($0.url) (site \($0.siteName), device \($0.deviceID))" } ?? "not enrolled")"
            )
            let age = status.oldestUnsentAt.map { ", the oldest \((now - $0) / 1000) s old" } ?? ""
            print("backlog: \(status.backlog) changes\(age)")
            print("recordings waiting for upload: \(status.recordingsWaiting)")
            print("last success: \(date(status.lastSuccessAt))")
            print("last error: \(status.lastError.map { "\($0) (\(date(status.lastErrorAt)))" } ?? "none")")
        }
    }
}
