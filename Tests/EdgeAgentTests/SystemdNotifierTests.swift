import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import TestSupport
import Testing

@testable import EdgeAgent

#if canImport(Glibc)
import Glibc
#endif

/// A Unix datagram socket standing in for systemd's notify socket.
final class NotifySocket: Sendable {
    let path: String
    let descriptor: Int32

    init(folder: TemporaryFolder) throws {
        path = folder.file("notify.sock")
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.EADDRINUSE) }
        // Never hang a test run: give up after 10 s.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram, read on a thread of its own; nil after the timeout.
    func receive() async -> String? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { [descriptor] in
                var buffer = [UInt8](repeating: 0, count: 512)
                let count = recv(descriptor, &buffer, buffer.count, 0)
                continuation.resume(returning: count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil)
            }
        }
    }

    deinit { close(descriptor) }
}

@Suite("systemd notifications")
struct SystemdNotifierTests {
    @Test("READY=1 when asked, WATCHDOG=1 while running, STOPPING=1 on graceful stop")
    func notifications() async throws {
        let folder = TemporaryFolder()
        let socket = try NotifySocket(folder: folder)
        let notifier = SystemdNotifier(
            // 400 ms: pings every 200 ms, each after a health probe answered within 100 ms, which a
            // busy two-core machine manages (with 20 ms, its 5 ms probe deadline was missed for 10 s).
            environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"], logger: LogCapture().logger)

        notifier.ready()
        #expect(await socket.receive() == "READY=1\nSTATUS=taking calls")

        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await notifier.run() }
                #expect(await socket.receive() == "WATCHDOG=1")
                #expect(await socket.receive() == "WATCHDOG=1")
                trigger.triggerGracefulShutdown()
                var last: String?
                repeat { last = await socket.receive() } while last == "WATCHDOG=1"
                #expect(last == "STOPPING=1")
                try await tasks.waitForAll()
            }
        }
    }

    @Test("a stuck agent stops pinging the watchdog: every ping follows a health check answered in time")
    func stuckStopsPings() async throws {
        let folder = TemporaryFolder()
        let socket = try NotifySocket(folder: folder)
        let (messages, logged) = AsyncStream<String>.makeStream()
        let logger = RecordingLogHandler.Store(messages: logged).logger()
        let healthyLeft = Mutex(2)
        let (stuck, enteredStuck) = AsyncStream<Void>.makeStream()
        let notifier = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "2000000"],
            health: {
                let healthy = healthyLeft.withLock { left in
                    defer { left -= 1 }
                    return left > 0
                }
                if healthy { return true }
                enteredStuck.yield()
                // Stuck (a database that never answers) until the agent is stopped; never healthy.
                try? await Task.sleep(for: .seconds(3600))
                return false
            }, logger: logger)

        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await notifier.run() }
                for await _ in stuck { break }
                for await message in messages where message.contains("did not answer its health check in time") {
                    break
                }
                trigger.triggerGracefulShutdown()
                // A ping only for a healthy answer given in time (a busy machine may be late with
                // one), none once stuck, then the stop.
                var pings = 0
                var last = await socket.receive()
                while last == "WATCHDOG=1" {
                    pings += 1
                    last = await socket.receive()
                }
                #expect(last == "STOPPING=1")
                #expect(pings <= 2)
                try await tasks.waitForAll()
            }
        }
        #expect(healthyLeft.withLock { $0 } < 0)
    }

    @Test("without NOTIFY_SOCKET nothing is sent and the service still stops")
    func withoutSystemd() async throws {
        let notifier = SystemdNotifier(environment: [:], logger: LogCapture().logger)
        notifier.ready()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await notifier.run() }
                trigger.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    @Test("a watchdog meant for another process is ignored")
    func foreignWatchdog() {
        let notifier = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"],
            logger: LogCapture().logger)
        #expect(notifier.watchdogInterval == nil)
    }
}
