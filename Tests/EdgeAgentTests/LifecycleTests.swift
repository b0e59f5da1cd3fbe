import AsyncHTTPClient
import AsyncHandoff
import Foundation
import GRDB
import Hummingbird
import LocalStore
import NIOCore
import NIOPosix
import ServiceLifecycle
import ServiceLifecycleTestKit
import Sync
import Synchronization
import TestSupport
import Testing

@testable import EdgeAgent

@Suite("Lifecycle")
struct LifecycleTests {
    @Test("graceful stop lets an in-flight request finish, then closes the database")
    func gracefulStopWithRequestInFlight() async throws {
        let folder = TemporaryFolder()
        let logs = LogCapture()
        var configuration = testConfiguration(folder: folder)
        configuration.http.port = 0
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)

        let entered = Gate()
        let release = Gate()
        let router = app.makeRouter()
        router.get("/test/slow") { _, _ in
            entered.open()
            await release.wait()
            // The database is still open while the request is in flight.
            let count = try await app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM menu_items")
            }
            return "menu items: \(count ?? -1)"
        }
        let port = Handoff<Int>()
        let server = app.makeApplication(router: router) { channel in port.send(channel.localAddress!.port!) }
        let group = AgentServer(app: app).makeServiceGroup(
            server: server, notifier: SystemdNotifier(socketPath: nil, watchdogInterval: nil, logger: logs.logger),
            gracefulShutdownSignals: [])

        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let url = "http://127.0.0.1:\(await port.receive())/test/slow"
                let response = Handoff<(UInt, String)>()
                tasks.addTask {
                    let result = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                    let body = try await result.body.collect(upTo: 1024)
                    response.send((result.status.code, String(buffer: body)))
                }
                await entered.wait()
                trigger.triggerGracefulShutdown()
                release.open()
                let (status, body) = await response.receive()
                #expect(status == 200)
                #expect(body == "menu items: 14")
                try await tasks.waitForAll()
            }
        }
        // After the group has stopped, the database is closed.
        await #expect {
            try await app.database.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
        } throws: { ($0 as? StoreError)?.code == .closed }
        #expect(logs.all.contains { $0.contains("database closed") })
    }

    @Test(
        "headquarters' booking settings hold from start-up, reach the tools, and unusable ones leave the last good ones in force"
    )
    func bookingSettings() async throws {
        let folder = TemporaryFolder()
        let configuration = testConfiguration(folder: folder)
        let first = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
        try await first.database.write { db in
            try SiteSettingsStore.save(
                SiteSettings(openingHours: ["1": ["11:00-14:00"]], seatsPerSlot: 12, version: 4), changedAt: 1, in: db)
        }
        await first.shutdown()

        let logs = LogCapture()
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
        #expect(app.policies.current.seatsPerSlot == 12)
        let services = app.makeCallServices()
        #expect(services.policy.openingHours[1] == [ReservationPolicy.Period("11:00-14:00")!])
        #expect(services.book.availability.policy.seatsPerSlot == 12)
        let hours = await services.engine.tools.perform(
            name: "get_opening_hours", arguments: #"{"date":"2030-01-07"}"#,
            context: ToolContext(callID: "c", callerPhone: "+15550000000", callSid: "CA1", language: "en"),
            turnID: "t")
        #expect(hours.0.contains("11:00-14:00"), "\(hours.0)")

        // Two parties of four fit 12 seats; headquarters cuts the seats to 6: flagged for staff.
        let monday = LocalDate(Date(), in: app.policies.current.timeZone).adding(days: 3)
        let day = monday.adding(days: (8 - monday.isoWeekday) % 7)
        for name in ["Ada", "Grace"] {
            _ = try await services.book.create(
                .init(name: name, phone: nil, partySize: 4, date: day, time: LocalTime("12:00")!, source: .staff),
                actor: "test")
        }
        app.applySettings(SiteSettings(openingHours: ["1": ["11:00-14:00"]], seatsPerSlot: 6, version: 5))
        await app.checkOverbooking(dates: [day])
        #expect(app.metrics.exposition().contains("edge_overbooked_slots 1"))
        #expect(
            try await StaffMessageBoard(database: app.database).open().first?.message.contains("8 guests for 6 seats")
                == true)

        app.applySettings(SiteSettings(seatsPerSlot: 0, version: 6))
        #expect(app.policies.current.seatsPerSlot == 6)
        #expect(logs.all.contains { $0.contains("cannot be used") && $0.contains("seats_per_slot") })
        await app.shutdown()
    }

    @Test("a port already in use is one clear error naming the address")
    func portInUse() async throws {
        let blocker = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(blocker.localAddress?.port)

        let folder = TemporaryFolder()
        var configuration = testConfiguration(folder: folder)
        configuration.http.port = port
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
        await #expect {
            try await AgentServer(app: app).run(environment: [:])
        } throws: { error in
            "\(error)"
                == "cannot listen on 127.0.0.1:\(port): the port is already in use; stop the other process or set EDGE_HTTP_PORT"
        }
        try await blocker.close().get()
    }

    @Test("a corrupt database stops start-up with the store's error and leaves the file alone")
    func corruptDatabase() async throws {
        let folder = TemporaryFolder()
        let configuration = testConfiguration(folder: folder)
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let junk = Data(repeating: 0x42, count: 10_000)
        try junk.write(to: URL(fileURLWithPath: configuration.databasePath))
        await #expect {
            _ = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
        } throws: { ($0 as? StoreError)?.code == .corrupt }
        #expect(try Data(contentsOf: URL(fileURLWithPath: configuration.databasePath)) == junk)
    }
}
