import Foundation
public import Logging
public import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Speaks systemd's notify protocol over `NOTIFY_SOCKET`: `READY=1` once the server listens,
/// `WATCHDOG=1` every half watchdog interval while the agent answers its health probe within a
/// quarter of it, `STOPPING=1` on graceful stop. A stuck agent stops pinging, and systemd restarts
/// it after `WatchdogSec`. Does nothing when the agent is not started by systemd.
public struct SystemdNotifier: Service {
    /// Whether the agent can still take calls; asked before every watchdog ping.
    public typealias HealthProbe = @Sendable () async -> Bool

    /// The socket path (`@` for the abstract namespace), from `NOTIFY_SOCKET`.
    let socketPath: String?
    /// From `WATCHDOG_USEC`.
    let watchdogInterval: Duration?
    let health: HealthProbe
    /// Where pings and failed probes are counted (`edge_watchdog_*`); nil counts nothing.
    let metrics: AgentMetrics?
    let logger: Logger

    public init(
        socketPath: String?, watchdogInterval: Duration?, health: @escaping HealthProbe = { true },
        metrics: AgentMetrics? = nil, logger: Logger
    ) {
        self.socketPath = socketPath.flatMap { $0.isEmpty ? nil : $0 }
        self.watchdogInterval = watchdogInterval
        self.health = health
        self.metrics = metrics
        self.logger = logger
        let active = socketPath?.isEmpty == false ? watchdogInterval : nil
        metrics?.watchdogIntervalSeconds.record(active.map { Double($0.components.seconds) } ?? 0)
    }

    /// Reads `NOTIFY_SOCKET` and `WATCHDOG_USEC` (and `WATCHDOG_PID`, which must be ours if set).
    public init(
        environment: [String: String], health: @escaping HealthProbe = { true }, metrics: AgentMetrics? = nil,
        logger: Logger
    ) {
        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0,
            environment["WATCHDOG_PID"].map({ $0 == String(getpid()) }) ?? true
        {
            interval = .microseconds(microseconds)
        }
        self.init(
            socketPath: environment["NOTIFY_SOCKET"], watchdogInterval: interval, health: health, metrics: metrics,
            logger: logger)
    }

    /// Tells systemd the agent is ready to take calls.
    public func ready() {
        send("READY=1\nSTATUS=taking calls")
    }

    public func run() async throws {
        if let watchdogInterval, socketPath != nil {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    // A probe that failed or was late is asked again soon, so that one slow moment does
                    // not cost a restart; only an agent stuck for the whole interval misses it.
                    if await answers(within: watchdogInterval / 4) {
                        send("WATCHDOG=1")
                        metrics?.watchdogPings.increment()
                        try? await Task.sleep(for: watchdogInterval / 2)
                    } else {
                        try? await Task.sleep(for: watchdogInterval / 16)
                    }
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        send("STOPPING=1")
    }

    /// Whether the health probe says yes within `limit`. A probe that does not answer in time is
    /// logged, then waited for: while it hangs, no ping goes out.
    func answers(within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool?.self) { group in
            group.addTask { await health() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            switch first {
            case .some(true):
                break
            case .some(false):
                metrics?.watchdogProbeFailures("failed").increment()
                logger.error("the agent failed its health check; the systemd watchdog is not pinged")
            case .none:
                metrics?.watchdogProbeFailures("late").increment()
                logger.error(
                    "the agent did not answer its health check in time; the systemd watchdog is not pinged, and systemd restarts the agent if it stays stuck"
                )
            }
            group.cancelAll()
            return first ?? false
        }
    }

    /// Sends one datagram; failures are logged and otherwise ignored (systemd may be gone at stop).
    func send(_ message: String) {
        guard let socketPath else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else {
            logger.warning("NOTIFY_SOCKET path is too long; systemd notifications are off")
            return
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let sent = message.withCString { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, text, strlen(text), Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        if sent < 0 {
            logger.warning("systemd notification failed", metadata: ["errno": .stringConvertible(errno)])
        }
    }
}
