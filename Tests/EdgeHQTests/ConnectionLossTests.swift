import EdgeHQ
import Foundation
import Logging
import PostgresNIO
import Testing

/// A PostgreSQL connection killed in the middle of a transaction (`pg_terminate_backend`: what a
/// failover, a restarted PgBouncer or a cut network look like): the handler must get an error in a
/// bounded time, and the pool must serve the next request.
@Suite("Headquarters: a connection killed mid-transaction", .serialized)
struct ConnectionLossTests {
    enum Point: String, CaseIterable, Sendable {
        case beforeFirstStatement = "before the first statement"
        case betweenStatements = "between statements"
        case duringCommit = "during COMMIT"
    }

    struct Timeout: Error {}

    /// `body`'s result, or `Timeout` after `seconds`: the bound a stuck handler would break.
    static func within<Value: Sendable>(_ seconds: Int, _ body: @escaping @Sendable () async throws -> Value)
        async throws -> Value
    {
        try await withThrowingTaskGroup(of: Value.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                throw Timeout()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Kills the other backends of this database in `state`, and waits until they are gone.
    static func kill(_ killer: HQDatabase, state: String, query: String? = nil) async throws {
        while true {
            var killed: [Int32] = []
            let rows = try await killer.client.query(
                """
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = \(state)
                    AND (\(query)::text IS NULL OR query = \(query))
                """)
            for try await pid in rows.decode(Int32.self) { killed.append(pid) }
            guard !killed.isEmpty else {
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            for pid in killed {
                try await killer.client.query("SELECT pg_terminate_backend(\(pid), 5000)")
            }
            return
        }
    }

    @Test("the handler gets an error within 10 s and the pool serves the next request", arguments: Point.allCases)
    func killed(at point: Point) async throws {
        try await HQHarness.with { hq in
            let database = hq.database
            try await database.client.query("CREATE TABLE loss (n integer)")
            try await database.client.query(
                """
                CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$
                """)
            try await database.client.query(
                """
                CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON loss DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW WHEN (NEW.n = 99) EXECUTE FUNCTION slow_commit()
                """)
            let killer = HQDatabase(
                location: hq.app.configuration.database, maximumConnections: 1, logger: Logger(label: "killer"))
            try await killer.whileRunning {
                // During COMMIT: killed while COMMIT runs the slow deferred trigger.
                async let commitKiller: Void = {
                    if point == .duringCommit { try await Self.kill(killer, state: "active", query: "COMMIT") }
                }()
                let outcome: Result<Void, any Error>
                do {
                    try await Self.within(10) {
                        try await database.transaction { connection in
                            switch point {
                            case .beforeFirstStatement:
                                try await Self.kill(killer, state: "idle in transaction")
                                try await connection.query("INSERT INTO loss VALUES (1)")
                            case .betweenStatements:
                                try await connection.query("INSERT INTO loss VALUES (1)")
                                try await Self.kill(killer, state: "idle in transaction")
                                try await connection.query("INSERT INTO loss VALUES (2)")
                            case .duringCommit:
                                try await connection.query("INSERT INTO loss VALUES (99)")
                            }
                        }
                    }
                    outcome = .success(())
                } catch {
                    outcome = .failure(error)
                }
                try await commitKiller
                switch outcome {
                case .success: Issue.record("the transaction committed though its connection was killed")
                case .failure(let error): #expect(!(error is Timeout), "the handler was still running after 10 s")
                }
                // The pool serves the next request.
                let next = try await Self.within(10) {
                    var answer = 0
                    for try await value in try await database.client.query("SELECT count(*)::int FROM loss")
                        .decode(Int.self)
                    {
                        answer = value
                    }
                    return answer
                }
                #expect(next == 0)
            }
        }
    }
}
