import EdgeHQ
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

/// Headquarters' tests run against the real PostgreSQL 15 that `provisioning/with-test-postgres.sh`
/// starts (it sets `EDGE_HQ_TEST_DATABASE_URL`); each test gets a database of its own, dropped after.
enum HQTestDatabase {
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "EDGE_HQ_TEST_DATABASE_URL is not set: run the tests through provisioning/with-test-postgres.sh (make test does)"
        }
    }

    static func baseLocation() throws -> HQConfiguration.DatabaseLocation {
        guard let url = ProcessInfo.processInfo.environment["EDGE_HQ_TEST_DATABASE_URL"] else { throw Missing() }
        return try HQConfiguration.parseDatabaseURL(url)
    }

    /// Creates an empty database, runs `body` with its location, drops it.
    static func withFreshDatabase<Result: Sendable>(
        _ body: (HQConfiguration.DatabaseLocation) async throws -> Result
    ) async throws -> Result {
        let base = try baseLocation()
        let name = "hq_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin(base) { admin in
            try await admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        var location = base
        location.database = name
        do {
            let result = try await body(location)
            try await drop(name, base: base)
            return result
        } catch {
            try? await drop(name, base: base)
            throw error
        }
    }

    /// A pool of its own (a `PostgresClient` runs once), for `body`.
    private static func admin(_ base: HQConfiguration.DatabaseLocation, _ body: (HQDatabase) async throws -> Void)
        async throws
    {
        let admin = HQDatabase(location: base, maximumConnections: 2, logger: Logger(label: "test-admin"))
        try await admin.whileRunning { try await body(admin) }
    }

    private static func drop(_ name: String, base: HQConfiguration.DatabaseLocation) async throws {
        try await admin(base) { admin in
            try await admin.client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
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

extension Process {
    /// Waits for the process to exit on a thread of its own, so that no thread of the cooperative
    /// pool (two on this machine) is blocked while in-process servers and clients need them.
    func exited() async {
        let process = UncheckedProcess(process: self)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                process.process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}

/// Carries a `Process` to the waiting thread.
private struct UncheckedProcess: @unchecked Sendable {
    // @unchecked: the waiting thread only calls `waitUntilExit()`, which Foundation documents as
    // callable from any thread; the test does not touch the process until that thread resumes it.
    let process: Process
}
