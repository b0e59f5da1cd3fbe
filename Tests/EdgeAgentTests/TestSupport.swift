import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport

@testable import EdgeAgent

/// Collects log lines in memory as the JSON handler writes them, to assert what was (and was not) logged.
final class LogCapture: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var logger: Logger {
        Logger(label: "test") { [self] label in
            JSONLogHandler(label: label, level: .debug) { line in self.lines.withLockedValue { $0.append(line) } }
        }
    }

    var all: [String] { lines.withLockedValue { $0 } }

    /// The captured lines decoded as JSON objects.
    var objects: [[String: Any]] {
        all.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// The Twilio auth token of the tests' fixed signature vectors.
let testAuthToken = "test-auth-token-0123456789abcdef"

/// A configuration for tests: data in `folder`, loopback on an ephemeral port, Twilio signing on.
func testConfiguration(folder: TemporaryFolder, authToken: String? = testAuthToken) -> AgentConfiguration {
    var configuration = AgentConfiguration()
    configuration.dataDirectory = folder.file("data")
    configuration.http.port = 0
    configuration.publicURL = URL(string: "https://agent.example.com")!
    configuration.twilio.authToken = authToken.map(Secret.init)
    configuration.minimumFreeDiskBytes = 0
    return configuration
}
