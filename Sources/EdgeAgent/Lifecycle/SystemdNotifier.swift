import Foundation
public import Logging
public import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Speaks systemd's notify protocol over `NOTIFY_SOCKET`: `READY=1` once the server listens,
/// `WATCHDOG=1` every half watchdog interval while running, `STOPPING=1` on graceful stop.
/// Does nothing when the agent is not started by systemd.
public struct SystemdNotifier: Service {
    /// The socket path (`@` for the abstract namespace), from `NOTIFY_SOCKET`.
    let socketPath: String?
    /// From `WATCHDOG_USEC`.
    let watchdogInterval: Duration?
    let logger: Logger

    public init(socketPath: String?, watchdogInterval: Duration?, logger: Logger) {
        self.socketPath = socketPath.flatMap { $0.isEmpty ? nil : $0 }
        self.watchdogInterval = watchdogInterval
        self.logger = logger
    }

    /// Reads `NOTIFY_SOCKET` and `WATCHDOG_USEC` (and `WATCHDOG_PID`, which must be ours if set).
    public init(environment: [String: String], logger: Logger) {
        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0,
            environment["WATCHDOG_PID"].map({ $0 == String(getpid()) }) ?? true
        {
            interval = .microseconds(microseconds)
        }
        self.init(socketPath: environment["NOTIFY_SOCKET"], watchdogInterval: interval, logger: logger)
    }

    /// Tells systemd the agent is ready to take calls.
    public func ready() {
        send("READY=1\nSTATUS=taking calls")
    }

    public func run() async throws {
        if let watchdogInterval, socketPath != nil {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    send("WATCHDOG=1")
                    try? await Task.sleep(for: watchdogInterval / 2)
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        send("STOPPING=1")
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
