public import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Throwaway databases on the PostgreSQL 15 that `provisioning/with-test-postgres.sh` starts (it sets
/// `EDGE_HQ_TEST_DATABASE_URL`): headquarters' tests, the sync benchmark and the chaos drill each make
/// their own and drop it after.
public enum ScratchPostgres {
    /// The variable `with-test-postgres.sh` sets.
    public static let variable = "EDGE_HQ_TEST_DATABASE_URL"

    /// The tests were not started through `with-test-postgres.sh`, or its URL is not one.
    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "\(ScratchPostgres.variable) is not set to a postgres:// URL: run through provisioning/with-test-postgres.sh (make test does)"
        }
    }

    /// The server's URL, naming its maintenance database.
    public static func serverURL() throws -> URLComponents {
        guard let text = ProcessInfo.processInfo.environment[variable], let url = URLComponents(string: text),
            url.host != nil, url.user != nil
        else { throw Missing() }
        return url
    }

    /// Creates an empty database named `prefix` and a random suffix; returns its URL.
    public static func create(prefix: String) async throws -> String {
        var url = try serverURL()
        let name = prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await execute("CREATE DATABASE \(name)", server: url)
        url.path = "/" + name
        return url.string!
    }

    /// Drops the database `url` names, ending its sessions.
    public static func drop(_ url: String) async throws {
        guard let components = URLComponents(string: url) else { throw Missing() }
        let name = String(components.path.drop { $0 == "/" })
        // Only names `create` made: letters, digits and underscores.
        precondition(!name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        try await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", server: try serverURL())
    }

    /// Creates a database, runs `body` with its URL, drops it (also when `body` throws).
    public static func with<Result: Sendable>(prefix: String, _ body: (String) async throws -> Result) async throws
        -> Result
    {
        let url = try await create(prefix: prefix)
        do {
            let result = try await body(url)
            try await drop(url)
            return result
        } catch {
            try? await drop(url)
            throw error
        }
    }

    /// Runs one statement on a connection of its own to the server's maintenance database. Cancelling
    /// the task closes the connection (a statement alone does not stop waiting when cancelled).
    private static func execute(_ sql: String, server url: URLComponents) async throws {
        let logger = Logger(label: "scratch-postgres")
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value
        let configuration = PostgresConnection.Configuration(
            host: url.host!, port: url.port ?? 5432, username: url.user!,
            password: url.password?.removingPercentEncoding ?? url.password,
            database: String(url.path.drop { $0 == "/" }),
            tls: mode == "require" ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            _ = try await withTaskCancellationHandler {
                try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            } onCancel: {
                connection.close().whenComplete { _ in }
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
