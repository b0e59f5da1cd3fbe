import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Runs a Hummingbird router on 127.0.0.1 on a port the system picks, for test doubles of cloud
/// services: `body` gets the base URL, and the server stops when it returns.
func withLoopbackServer<Result: Sendable>(
    _ router: Router<BasicRequestContext>, _ body: @Sendable (URL) async throws -> Result
) async throws -> Result {
    let port = Handoff<Int>()
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { port.send($0.localAddress!.port!) }, logger: Logger(label: "double"))
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask {
            try await app.runService(gracefulShutdownSignals: [])
            return nil
        }
        let url = URL(string: "http://127.0.0.1:\(await port.receive())")!
        let result = try await body(url)
        group.cancelAll()
        return result
    }
}
