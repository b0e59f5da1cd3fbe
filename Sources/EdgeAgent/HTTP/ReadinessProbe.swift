import Foundation
import GRDB
public import LocalStore
public import Resilience

/// Checks each dependency the agent needs to take calls, for `/readyz` and `doctor`.
public struct ReadinessProbe: Sendable {
    /// The state of one dependency, or of the whole.
    public enum Status: String, Sendable, Comparable {
        case up
        case degraded
        case down

        public static func < (lhs: Status, rhs: Status) -> Bool {
            [.up, .degraded, .down].firstIndex(of: lhs)! < [.up, .degraded, .down].firstIndex(of: rhs)!
        }
    }

    /// One dependency's state with a line a technician can act on.
    public struct Check: Sendable {
        public let status: Status
        public let detail: String?
    }

    /// Every dependency's state. The whole is the worst of the database and the disk, which the agent
    /// cannot work without; a cloud provider that is down makes it degraded at worst, because calls go
    /// on without it (cached phrases, the local voice, the keypad flow).
    public struct Report: Sendable {
        public let checks: [String: Check]
        static let critical: Set<String> = ["database", "disk"]

        public var status: Status {
            let critical = checks.filter { Self.critical.contains($0.key) }.values.map(\.status).max() ?? .up
            let others = checks.filter { !Self.critical.contains($0.key) }.values.map(\.status).max() ?? .up
            return max(critical, min(others, .degraded))
        }

        var jsonObject: [String: Any] {
            [
                "status": status.rawValue,
                "checks": checks.mapValues { check -> [String: String] in
                    var object = ["status": check.status.rawValue]
                    if let detail = check.detail { object["detail"] = detail }
                    return object
                },
            ]
        }
    }

    let database: EdgeDatabase
    let configuration: AgentConfiguration
    let upstreams: [Upstream]

    /// - Parameter upstreams: the configured cloud providers, reported by their circuit's state.
    public init(database: EdgeDatabase, configuration: AgentConfiguration, upstreams: [Upstream] = []) {
        self.database = database
        self.configuration = configuration
        self.upstreams = upstreams
    }

    /// Runs every check.
    public func check() async -> Report {
        var checks: [String: Check] = [
            "database": await databaseCheck(),
            "disk": diskCheck(),
            "twilio": configuration.twilio.authToken == nil
                ? Check(status: .degraded, detail: "TWILIO_AUTH_TOKEN is not set: every webhook is refused")
                : Check(status: .up, detail: nil),
        ]
        for upstream in upstreams {
            checks[upstream.name] = Self.check(upstream)
        }
        return Report(checks: checks)
    }

    static func check(_ upstream: Upstream) -> Check {
        switch upstream.health {
        case .up: Check(status: .up, detail: nil)
        case .degraded: Check(status: .degraded, detail: "recovering: one trial request is let through")
        case .down:
            Check(
                status: .down,
                detail: "failing: circuit open, calls use the fallbacks; check the provider's status and the key")
        }
    }

    private func databaseCheck() async -> Check {
        do {
            let answer = try await database.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
            return answer == 1 ? Check(status: .up, detail: nil) : Check(status: .down, detail: "unexpected answer")
        } catch let error as StoreError {
            // /readyz needs no login: the code, not the message with its paths.
            return Check(status: .down, detail: "database error: \(error.code)")
        } catch {
            return Check(status: .down, detail: "database error")
        }
    }

    private func diskCheck() -> Check {
        let folder = configuration.dataDirectory
        guard access(folder, W_OK) == 0 else {
            return Check(status: .down, detail: "the data folder (EDGE_DATA_DIR) is not writable")
        }
        guard let free = Self.freeBytes(in: folder) else {
            return Check(status: .down, detail: "cannot read the data folder's free space")
        }
        if free < configuration.minimumFreeDiskBytes {
            return Check(
                status: .degraded,
                detail: "only \(free / 1_048_576) MiB free in the data folder; free space or lower disk.minimum_free_mb"
            )
        }
        return Check(status: .up, detail: nil)
    }

    /// The bytes an unprivileged process may still write in `folder`'s file system; nil when unknown.
    static func freeBytes(in folder: String) -> Int64? {
        var stats = statvfs()
        guard statvfs(folder, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}
