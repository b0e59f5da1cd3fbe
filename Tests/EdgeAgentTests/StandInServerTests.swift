import AsyncHandoff
import Logging
import ServiceLifecycle
import Testing

@testable import CallSimulator

/// The demo's and the tests' stand-in servers: a server that cannot start must say so, not hang.
@Suite("Stand-in servers")
struct StandInServerTests {
    /// A server that fails before it listens, as one whose port cannot be bound does.
    struct FailingServer: Service {
        struct Refused: Error {}
        func run() async throws { throw Refused() }
    }

    @Test("a server that fails before it listens: its error reaches the caller, the body never runs")
    func failedStart() async throws {
        let bodyRan = Gate()
        await #expect(throws: FailingServer.Refused.self) {
            try await DemoRunner.runWhileServing(
                FailingServer(), port: Handoff<Int?>(), logger: Logger(label: "test")
            ) { _ in bodyRan.open() }
        }
        #expect(!bodyRan.isOpen)
    }
}
