import EdgeHQ
import Logging
import PostgresNIO
import TestSupport
import Testing

/// Headquarters' pool must be running before anything leases a connection from it: PostgresNIO logs
/// a warning for each lease before, which every start of `edge-hq` used to print.
@Suite("Headquarters: the pool at start")
struct PoolStartTests {
    @Test("the first statements wait until the pool runs: no lease before it, no warning (ten starts)")
    func noLeaseBeforeRun() async throws {
        let logs = RecordingLogHandler.Store()
        let counts = try await HQTestDatabase.withFreshDatabase { location in
            // A lease racing the pool's start loses only now and then: ten starts make a race seen.
            var counts: [Int] = []
            for start in 0..<10 {
                let database = HQDatabase(location: location, maximumConnections: 4, logger: logs.logger())
                counts.append(
                    try await database.whileRunning {
                        if start == 0 { try await HQMigrations.apply(database, logger: logs.logger()) }
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
        #expect(logs.all.filter { $0.level >= .warning }.map(\.message) == [])
    }
}
