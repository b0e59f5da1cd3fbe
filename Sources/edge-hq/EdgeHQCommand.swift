import ArgumentParser
import EdgeHQ
import Foundation
import Logging

/// `edge-hq`: headquarters' sync endpoint in front of the central PostgreSQL.
@main
struct EdgeHQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-hq",
        abstract: "Headquarters' sync endpoint in front of the central PostgreSQL.",
        discussion: """
            Configuration from the environment: EDGE_HQ_DATABASE_URL (postgres://user[:password]@host:port/db), \
            EDGE_HQ_HTTP_HOST / EDGE_HQ_HTTP_PORT (127.0.0.1 / 8443), EDGE_HQ_TLS_CERT / EDGE_HQ_TLS_KEY (PEM), \
            EDGE_HQ_ALLOW_HTTP=1 (plain HTTP, tests only).
            """,
        subcommands: [Serve.self, Migrate.self, Sites.self, EnrolToken.self, Devices.self, Overbooked.self])
}

/// Prints `edge-hq: <message>` on one line to standard error and returns the exit code to throw.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("edge-hq: \(message)\n".utf8))
    return ExitCode(code)
}

/// Loads the configuration (exit 2 when it is wrong) and runs `body` with the database pool running
/// (exit 1 when it fails).
func withHQ<Result: Sendable>(_ body: (HQApp) async throws -> Result) async throws -> Result {
    let configuration: HQConfiguration
    do {
        configuration = try HQConfiguration.load(environment: ProcessInfo.processInfo.environment)
    } catch {
        throw fail(error.description, code: 2)
    }
    var logger = Logger(label: "edge-hq")
    logger.logLevel = .warning
    let app = HQApp(configuration: configuration, logger: logger)
    do {
        return try await app.database.whileRunning {
            try await HQMigrations.apply(app.database, logger: logger)
            return try await body(app)
        }
    } catch let error as ExitCode {
        throw error
    } catch {
        throw fail(HQFailure.describe(error), code: 1)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the sync API (applies pending migrations first); stops on SIGTERM or SIGINT.")

    func run() async throws {
        let configuration: HQConfiguration
        do {
            configuration = try HQConfiguration.load(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw fail(error.description, code: 2)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "edge-hq")
        let app = HQApp(configuration: configuration, logger: logger)
        do {
            try await app.serve { channel in
                logger.info("listening", metadata: ["http.address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            }
        } catch let error as HQConfigurationError {
            throw fail(error.description, code: 2)
        } catch {
            throw fail(HQFailure.describe(error), code: 1)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations and exit.")

    func run() async throws {
        try await withHQ { _ in
            print("the schema is at version \(HQMigrations.all.last?.version ?? 0)")
        }
    }
}

struct Sites: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and list sites; set how long a site's recordings are kept.",
        subcommands: [Add.self, List.self, Retention.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a site; prints its id alone on the last line.")

        @Argument(help: "The site's name (unique).")
        var name: String

        func run() async throws {
            let site = try await withHQ { app in try await app.directory.addSite(name: name) }
            print("site \(site.name) created")
            print(site.id)
        }
    }

    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Keep a site's recordings at headquarters for DAYS (1 to 3650), or 'default' for EDGE_HQ_RECORDING_RETENTION_DAYS."
        )

        @Argument(help: "The site's id (edge-hq sites list).")
        var site: String

        @Argument(help: "Days, or 'default'.")
        var days: String

        func run() async throws {
            let value: Int?
            if days == "default" {
                value = nil
            } else if let number = Int(days) {
                value = number
            } else {
                throw ValidationError("DAYS is a number of days from 1 to 3650, or 'default'")
            }
            try await withHQ { app in try await app.directory.setRecordingRetention(site: site, days: value) }
            print("recordings of site \(site) are kept \(value.map { "\($0) days" } ?? "the default time")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the sites.")

        func run() async throws {
            let sites = try await withHQ { app in try await app.directory.sites() }
            for site in sites { print("\(site.id)  \(site.name)") }
        }
    }
}

struct EnrolToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol-token",
        abstract: "Print a one-time enrolment token for a site alone on the last line.",
        discussion:
            "Give it to the technician for `edge-agent provision --hq URL --token TOKEN`. Only its hash is kept.")

    @Argument(help: "The site's id or name.")
    var site: String

    @Option(name: .long, help: "How long the token is valid, in hours.")
    var ttl = 24

    func validate() throws {
        guard (1...24 * 30).contains(ttl) else { throw ValidationError("--ttl must be from 1 to 720 hours") }
    }

    func run() async throws {
        let (token, expiresAt) = try await withHQ { app in
            try await app.directory.makeEnrolmentToken(site: site, validFor: .seconds(ttl * 3600))
        }
        print("valid until \(ISO8601DateFormatter().string(from: expiresAt)), once")
        print(token)
    }
}

struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The boxes enrolled per site.", subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled boxes, by site.")

        func run() async throws {
            let (devices, sites) = try await withHQ { app in
                (try await app.directory.devices(), try await app.directory.sites())
            }
            let names = Dictionary(uniqueKeysWithValues: sites.map { ($0.id, $0.name) })
            let format = ISO8601DateFormatter()
            for device in devices {
                let state = device.revokedAt.map { "revoked \(format.string(from: $0))" } ?? "active"
                let seen = device.lastSeenAt.map { format.string(from: $0) } ?? "never"
                print(
                    "\(device.id)  \(names[device.siteID] ?? device.siteID)  \(device.name)  \(state)  last seen \(seen)"
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a box: its signed requests are refused from now on.")

        @Argument(help: "The device id (see `edge-hq devices list`).")
        var id: String

        func run() async throws {
            try await withHQ { app in try await app.directory.revoke(deviceID: id) }
            print("device \(id) revoked")
        }
    }
}

struct Overbooked: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Moments with more guests than seats after bookings from boxes and headquarters met.")

    @Option(help: "Only this site.")
    var site: String?

    func run() async throws {
        let (slots, sites) = try await withHQ { app in
            (
                try await OverbookedSlots(database: app.database, logger: app.logger).open(site: site),
                try await app.directory.sites()
            )
        }
        let names = Dictionary(uniqueKeysWithValues: sites.map { ($0.id, $0.name) })
        let format = ISO8601DateFormatter()
        for slot in slots {
            let moment = format.string(from: Date(timeIntervalSince1970: Double(slot.moment) / 1000))
            print(
                "\(names[slot.siteID] ?? slot.siteID)  \(moment)  \(slot.seatsHeld) guests for \(slot.seats) seats  "
                    + "reservations \(slot.reservationIDs.joined(separator: ", "))")
        }
        if slots.isEmpty { print("nothing overbooked") }
    }
}
