public import Logging
public import PostgresNIO
import Synchronization

/// One leased PostgreSQL connection whose statements always finish: each fails at once when the
/// connection is already closed, and otherwise within ``deadline``.
///
/// Why: PostgresNIO 1.33.2's `PostgresConnection.query` writes its task to the channel with a nil
/// write promise (`channel.write(HandlerTask.extendedQuery(context), promise: nil)`), so a statement
/// sent on a connection the server has just closed (`pg_terminate_backend`, a failover, a restarted
/// PgBouncer, a cut network) fails its write and its result promise is never completed: the caller
/// waits forever, and cancelling its task does not help. `ConnectionLossTests` reproduces it for
/// every point of a transaction. Upstream: vapor/postgres-nio#487 ("Query Hangs if Connection is
/// Closed") fixed it in 2024 and was reverted by #501, so 1.33.2 still has it. Until PostgresNIO
/// completes that promise itself, every statement of `edge-hq` goes through here (``HQDatabase``'s
/// `query`, `transaction` and `connection`).
public struct HQConnection: Sendable {
    public let underlying: PostgresConnection
    /// The longest a statement may take here (PostgreSQL's `statement_timeout` stops it at the server
    /// a little earlier; this bound covers a connection that no longer answers at all).
    let deadline: Duration
    let logger: Logger

    /// The statement was not run, or its outcome is unknown, because the connection is gone.
    public struct ConnectionLost: Error, CustomStringConvertible, Sendable {
        public let description: String
        /// Whether the statement may have reached PostgreSQL; when not, running it again on another
        /// connection is safe.
        public var mayHaveRun = true
    }

    init(_ underlying: PostgresConnection, deadline: Duration, logger: Logger) {
        self.underlying = underlying
        self.deadline = deadline
        self.logger = logger
    }

    /// Runs `query`; throws ``ConnectionLost`` when the connection is closed, when the statement
    /// takes longer than ``deadline`` (the connection is then closed, so the pool replaces it), or
    /// `CancellationError` when the task is cancelled. The rows are read later, outside the deadline;
    /// ``rows(_:logger:)`` reads them within it.
    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger? = nil) async throws -> PostgresRowSequence {
        try await run(query, logger: logger) { $0 }
    }

    /// Runs `query` and reads every row, all within ``deadline``; throws like ``query(_:logger:)``.
    public func rows(_ query: PostgresQuery, logger: Logger? = nil) async throws -> [PostgresRow] {
        try await run(query, logger: logger) { try await $0.collect() }
    }

    private func run<Value: Sendable>(
        _ query: PostgresQuery, logger: Logger?, read: @escaping @Sendable (PostgresRowSequence) async throws -> Value
    ) async throws -> Value {
        guard !underlying.isClosed else {
            throw ConnectionLost(
                description: "the connection to PostgreSQL was closed (by the server or the network)", mayHaveRun: false
            )
        }
        let connection = underlying
        let logger = logger ?? self.logger
        let deadline = self.deadline
        return try await raceDeadline(
            deadline,
            late: {
                ConnectionLost(
                    description: "PostgreSQL did not answer a statement within \(deadline); the connection is closed")
            },
            whenLate: {
                // The statement's text names no data: values travel as binds.
                logger.error(
                    "a PostgreSQL statement did not finish in time; its connection is closed",
                    metadata: [
                        "db.statement": "\(query.sql.prefix(120))", "db.connection.closed": "\(connection.isClosed)",
                    ])
                connection.close().whenComplete { _ in }
            },
            // A statement lost on a channel that closed would otherwise wait for the deadline.
            lost: (
                { connection.isClosed },
                {
                    ConnectionLost(
                        description:
                            "the connection to PostgreSQL closed (by the server or the network) during a statement")
                }
            ),
            operation: {
                do {
                    return try await read(try await connection.query(query, logger: logger))
                } catch {
                    if Self.endsSession(error) { connection.close().whenComplete { _ in } }
                    throw error
                }
            })
    }

    /// Runs `body` between BEGIN and COMMIT on this connection, with ROLLBACK when it throws (where
    /// the connection still lives: a closed one was rolled back by the server).
    public func transaction<Result: Sendable>(_ body: (HQConnection) async throws -> Result) async throws -> Result {
        try await query("BEGIN")
        let value: Result
        do {
            value = try await body(self)
        } catch {
            if Self.endsSession(error) || error is CancellationError || Task.isCancelled {
                // The server ended the session (or it is gone): there is nothing to roll back, and a
                // ROLLBACK sent now could be lost like any statement on a closing channel. Cancelled:
                // a statement may still be running on the connection and a ROLLBACK would not be
                // waited for, so the connection must not go back to the pool mid-transaction.
                // Closing it ends the transaction at the server.
                try? await underlying.close()
            } else if !underlying.isClosed {
                _ = try? await query("ROLLBACK")
            }
            throw error
        }
        do {
            try await query("COMMIT")
        } catch let lost as ConnectionLost {
            throw ConnectionLost(
                description: "\(lost.description) during COMMIT: the transaction may or may not be committed")
        } catch is CancellationError {
            try? await underlying.close()
            throw ConnectionLost(
                description: "cancelled during COMMIT: the transaction may or may not be committed")
        }
        return value
    }

    /// Whether `error` means the session is over: the connection is lost, or PostgreSQL sent a FATAL
    /// or PANIC error (`pg_terminate_backend`, a shutdown or restart, a failover). PostgresNIO 1.33.2
    /// treats a FATAL error during a statement like any other and waits for the server's next
    /// message or for the socket to close; through a proxy the close may come late or never (the
    /// chaos drill saw a ROLLBACK wait 20 s on such a connection). So `edge-hq` closes the
    /// connection itself, and the pool replaces it.
    public static func endsSession(_ error: any Error) -> Bool {
        if error is ConnectionLost { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .server:
            let severity = error.serverInfo?[.severity] ?? ""
            return severity == "FATAL" || severity == "PANIC"
        case .connectionError, .uncleanShutdown, .serverClosedConnection, .clientClosedConnection:
            return true
        default:
            return false
        }
    }
}
