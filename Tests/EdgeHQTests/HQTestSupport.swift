import EdgeHQ
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import TestSupport
import Testing

/// Headquarters' tests run against the real PostgreSQL 15 that `provisioning/with-test-postgres.sh`
/// starts; each test gets a database of its own, dropped after.
enum HQTestDatabase {
    /// The test server's maintenance database.
    static func baseLocation() throws -> HQConfiguration.DatabaseLocation {
        try HQConfiguration.parseDatabaseURL(try ScratchPostgres.serverURL().string ?? "")
    }

    /// Creates an empty database, runs `body` with its location, drops it.
    static func withFreshDatabase<Result: Sendable>(
        _ body: (HQConfiguration.DatabaseLocation) async throws -> Result
    ) async throws -> Result {
        try await ScratchPostgres.with(prefix: "hq") { url in try await body(try HQConfiguration.parseDatabaseURL(url))
        }
    }
}

/// A migrated headquarters on a fresh database, its pool running; `serve` adds the HTTP server on a
/// loopback port.
struct HQHarness: Sendable {
    /// `EDGE_HQ_SECRETS_KEY` of every test headquarters.
    static let secretsKey = [UInt8](repeating: 7, count: 32)
    let app: HQApp
    var database: HQDatabase { app.database }
    var directory: SiteDirectory { app.directory }

    static func with<Result: Sendable>(
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        recordingStorage: HQConfiguration.RecordingStorage? = nil,
        configure: (inout HQConfiguration) -> Void = { _ in },
        _ body: (HQHarness) async throws -> Result
    ) async throws -> Result {
        try await HQTestDatabase.withFreshDatabase { location in
            var configuration = HQConfiguration(database: location)
            configuration.port = 0
            configuration.allowHTTP = true
            configuration.maximumConnections = 8
            if let recordingStorage { configuration.recordingStorage = recordingStorage }
            configuration.secretsKey = HQHarness.secretsKey
            configure(&configuration)
            var logger = Logger(label: "edge-hq-test")
            logger.logLevel = .warning
            let app = HQApp(configuration: configuration, logger: logger, now: now)
            return try await app.database.whileRunning {
                try await HQMigrations.apply(app.database, logger: logger)
                return try await body(HQHarness(app: app))
            }
        }
    }

    /// Runs the HTTP server on a free loopback port while `body` runs; `body` gets its base URL.
    func serve<Result: Sendable>(_ body: @Sendable (String) async throws -> Result) async throws -> Result {
        let application = try app.makeApplication()
        let box = ResultBox<Result>()
        try await application.test(.live) { client in
            box.value = try await body("http://127.0.0.1:\(client.port!)")
        }
        return box.value!
    }

    /// A site with a device enrolled for it: the site and a token's worth of enrolment done directly.
    func count(_ table: String, site: String? = nil) async throws -> Int {
        let query: PostgresQuery =
            site.map {
                PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) WHERE site_id = $1", binds: binds($0))
            }
            ?? PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table)")
        for try await count in try await database.client.query(query).decode(Int.self) { return count }
        return 0
    }

    private func binds(_ value: String) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(value)
        return bindings
    }
}

/// Carries a value out of a non-throwing-result closure.
final class ResultBox<Value: Sendable>: @unchecked Sendable {
    // @unchecked: written once inside the test closure, read after it returned; no concurrent access.
    var value: Value?
}
