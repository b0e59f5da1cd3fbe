import Foundation
import Hummingbird
import Logging

@testable import CallSimulator
@testable import EdgeAgent

/// Runs a Hummingbird router on 127.0.0.1 on a port the system picks, for test doubles of cloud
/// services: `body` gets the base URL, and the server stops gracefully when it returns.
func withLoopbackServer<Result: Sendable>(
    _ router: Router<BasicRequestContext>, _ body: (URL) async throws -> Result
) async throws -> Result {
    try await DemoRunner.serve(router, logger: LogCapture().logger, body)
}
