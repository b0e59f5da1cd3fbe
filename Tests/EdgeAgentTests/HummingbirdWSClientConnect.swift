import HummingbirdWSClient
import Logging

@testable import EdgeAgent

/// Opens a Media Stream with a hand-made line, for tests of what the agent refuses.
enum HummingbirdWSClientConnect {
    static func connect(url: String, line: SimulatedLine) async throws -> String? {
        let frame = try await WebSocketClient.connect(url: url, logger: Logger(label: "test")) { inbound, outbound, _ in
            try await line.run(inbound: inbound, outbound: outbound)
        }
        return frame.map { "\($0.closeCode)" }
    }
}
