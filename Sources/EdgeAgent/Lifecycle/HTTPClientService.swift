public import AsyncHTTPClient
public import Logging
public import ServiceLifecycle

/// Keeps the upstream HTTP client for the agent's lifetime and shuts it down after the server and
/// every call have finished with it.
public struct HTTPClientService: Service {
    let http: HTTPClient
    let logger: Logger

    public init(http: HTTPClient, logger: Logger) {
        self.http = http
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        guard http !== HTTPClient.shared else { return }
        do {
            try await http.shutdown()
        } catch {
            logger.warning("upstream HTTP client did not shut down cleanly: \(error)")
        }
    }
}
