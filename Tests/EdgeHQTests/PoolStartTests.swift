import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import EdgeHQ

/// Headquarters' pool must be running before anything leases a connection from it: PostgresNIO logs
/// a warning for each lease before, which every start of `edge-hq` used to print.
@Suite("Headquarters: the pool at start")
struct PoolStartTests {
    @Test("the work of a command starts only once the pool runs (ten starts), and reads the database")
    func workWaitsForThePool() async throws {
        let counts = try await HQTestDatabase.withFreshDatabase { location in
            // Without the wait the work would start before the pool's task, nearly always: ten starts
            // make that seen.
            var counts: [Int] = []
            for start in 0..<10 {
                let database = HQDatabase(location: location, maximumConnections: 4, logger: Logger(label: "test"))
                counts.append(
                    try await database.whileRunning {
                        #expect(database.hasStarted, "start \(start)")
                        if start == 0 { try await HQMigrations.apply(database, logger: Logger(label: "test")) }
                        var count = -1
                        for try await value in try await database.query("SELECT count(*)::int FROM sites")
                            .decode(Int.self)
                        {
                            count = value
                        }
                        return count
                    })
            }
            return counts
        }
        #expect(counts == Array(repeating: 0, count: 10))
    }
}
