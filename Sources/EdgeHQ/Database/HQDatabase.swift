public import Logging
import NIOSSL
public import PostgresNIO

/// Headquarters' PostgreSQL: a pool of connections (PostgresNIO's `PostgresClient`), which must be
/// running (``run()``, a service of `edge-hq serve`) while it is used.
public struct HQDatabase: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(location: HQConfiguration.DatabaseLocation, maximumConnections: Int = 20, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database,
            tls: location.requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            // The transaction was rolled back because `body` threw: that error is the one to answer.
            if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
            throw error
        }
    }

    /// Runs `body` on one connection of the pool.
    public func connection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result
    {
        try await client.withConnection { connection in try await body(connection) }
    }

    /// Runs `body` with the pool running, for commands that use the database and exit.
    public func whileRunning<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                await run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
