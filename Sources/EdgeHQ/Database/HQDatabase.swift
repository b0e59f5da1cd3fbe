import AsyncHandoff
public import Logging
import NIOSSL
public import PostgresNIO

/// Headquarters' PostgreSQL: a pool of connections (PostgresNIO's `PostgresClient`), which must be
/// running (``run()``, a service of `edge-hq serve`) while it is used.
public struct HQDatabase: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// Opens once ``run()`` has started the pool, for work that must not lease a connection before.
    private let started = Gate()
    /// PostgreSQL stops a statement after this (`statement_timeout`, set on every connection), and a
    /// transaction left idle after ``idleTransactionTimeout``; ``HQConnection`` gives up on a
    /// statement a little after, should the server not answer at all.
    public static let statementTimeout: Duration = .seconds(15)
    public static let idleTransactionTimeout: Duration = .seconds(30)

    public init(location: HQConfiguration.DatabaseLocation, maximumConnections: Int = 20, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database,
            tls: location.requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(Self.statementTimeout.components.seconds * 1000)"),
            ("idle_in_transaction_session_timeout", "\(Self.idleTransactionTimeout.components.seconds * 1000)"),
        ]
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the pool until the task is cancelled.
    public func run() async {
        started.open()
        // `PostgresClient.run()` marks the pool running as its first step, so work waiting in
        // ``untilRunning()`` almost always leases after that. A lease before it logs a warning, which
        // every start used to print; PostgresNIO offers no way to wait for the mark itself.
        await client.run()
    }

    /// Whether ``run()`` has been entered (it stays true after the pool stops).
    var hasStarted: Bool { started.isOpen }

    /// Returns once ``run()`` has been entered: the pool is then starting, and a lease waits for it
    /// (see ``run()`` for the few instructions in which PostgresNIO may still warn).
    public func untilRunning() async {
        await started.wait()
    }

    /// Runs one statement on a connection of the pool and reads its rows to the end; the statement
    /// gives up after ``statementTimeout`` and a little more, like every statement of ``HQConnection``.
    /// Use this rather than `client.query`: PostgresNIO 1.33.2's pool query waits forever, and keeps
    /// its connection leased, when its statement is written to a connection the server has just
    /// closed (so a replica whose connections PostgreSQL dropped would run out of them while looking
    /// alive). A statement that cannot have reached PostgreSQL (the pool lent a connection the
    /// server had closed) is sent again once the pool has had a moment to notice, a few times at most.
    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger? = nil) async throws -> HQRows {
        var attempt = 1
        while true {
            do {
                return try await connection { try await Self.rows(of: query, on: $0, logger: logger) }
            } catch let lost as HQConnection.ConnectionLost where !lost.mayHaveRun && attempt < Self.closedLendings {
                // The pool learns of a closed connection on its event loop and may lend it again
                // until then; the pause lets it, and the next lending is a live connection.
                attempt += 1
                try await Task.sleep(for: Self.closedLendingPause)
            }
        }
    }

    /// How many times a statement is tried on connections the pool lent already closed.
    static let closedLendings = 10
    /// The pause before trying again on another connection.
    static let closedLendingPause = Duration.milliseconds(10)

    /// Every row of `query`, read within the statement deadline.
    private static func rows(of query: PostgresQuery, on connection: HQConnection, logger: Logger?) async throws
        -> HQRows
    {
        HQRows(try await connection.rows(query, logger: logger))
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws. Every
    /// statement of it finishes (see ``HQConnection``), so a connection the server closes mid-way is
    /// an error here, never a wait.
    public func transaction<Result: Sendable>(_ body: (HQConnection) async throws -> Result) async throws -> Result {
        try await connection { connection in try await connection.transaction(body) }
    }

    /// Runs `body` on one connection of the pool; its statements give up after `deadline` (by default
    /// a little after ``statementTimeout``).
    public func connection<Result: Sendable>(
        deadline: Duration = HQDatabase.statementTimeout + .seconds(5), _ body: (HQConnection) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        return try await client.withConnection { connection in
            do {
                return try await body(HQConnection(connection, deadline: deadline, logger: logger))
            } catch {
                // Cancelled, a statement may still be queued or running on the connection (see
                // HQConnection): it is closed rather than lent to the next request.
                if error is CancellationError || Task.isCancelled { try? await connection.close() }
                throw error
            }
        }
    }

    /// Runs `body` with the pool running, for commands that use the database and exit.
    public func whileRunning<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                await run()
                return nil
            }
            defer { group.cancelAll() }
            await untilRunning()
            return try await body()
        }
    }
}

/// The rows of one statement, read to the end while its connection was leased; decoded like
/// PostgresNIO's row sequence (`for try await (a, b) in rows.decode((A, B).self)`).
public struct HQRows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow
    public let rows: [PostgresRow]

    init(_ rows: [PostgresRow]) { self.rows = rows }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[PostgresRow]>
        public mutating func next() async -> PostgresRow? { base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator()) }
}
