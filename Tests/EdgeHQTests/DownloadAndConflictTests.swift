import Crypto
import EdgeHQ
import Foundation
import GRDB
import LocalStore
import Logging
import PostgresNIO
import Sync
import TestSupport
import Testing

@testable import SyncAgent

/// Headquarters' writes coming down by cursor, and a reservation changed on both sides.
@Suite("Headquarters to box: downloads and conflicts", .serialized)
struct DownloadAndConflictTests {
    typealias Auth = EnrolmentAndAuthenticationTests

    struct Box {
        let database: EdgeDatabase
        let client: SyncClient
        let identity: DeviceIdentity
        let link: HeadquartersLink
        let folder: String

        var downloader: DownloadApplier {
            DownloadApplier(
                session: SyncSession(
                    database: database, client: client, identity: identity, link: link,
                    upstream: OutboxUploadTests.upstream(), logger: Auth.logger))
        }

        func reservation(_ id: String) async throws -> Reservation? {
            try await database.read { db in try Reservation.fetchOne(db, key: id) }
        }
    }

    func withBox(_ body: @Sendable (HQHarness, Box) async throws -> Void) async throws {
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let folder = TemporaryFolder(prefix: "box")
                let database = try EdgeDatabase(dataDirectory: folder.path, logger: Logger(label: "box"))
                let client = try SyncClient(baseURL: url, logger: Auth.logger)
                try await body(
                    hq, Box(database: database, client: client, identity: identity, link: link, folder: folder.path))
                try database.close()
            }
        }
    }

    /// A write at headquarters (as its staff tools or the online booking page would make it).
    static func hqWrite(
        _ hq: HQHarness, site: String, table: String, id: String, row: [String: Any], at changedAt: Int64
    )
        async throws -> Int64
    {
        let json = String(
            decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self)
        for try await version in try await hq.database.client.query(
            "SELECT hq_write(\(site), \(table), \(id), \(changedAt), \(json)::jsonb)"
        ).decode(Int64.self) {
            return version
        }
        return 0
    }

    static func reservationRow(_ id: String, name: String, party: Int) -> [String: Any] {
        [
            "id": id, "name": name, "party_size": party, "starts_at": 1_800_000_000_000, "duration_minutes": 90,
            "status": "confirmed", "source": "headquarters", "version": 1, "created_at": 1, "updated_at": 1,
        ]
    }

    @Test(
        "an item staff took off the menu stays off when headquarters sends it again unchanged, and takes headquarters' availability once it changes there"
    )
    func menuOverride() async throws {
        try await withBox { hq, box in
            let site = box.link.siteID
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            func writeSalmon(price: Int) async throws -> Int64 {
                try await Self.hqWrite(
                    hq, site: site, table: "menu_items", id: "salmon",
                    row: [
                        "id": "salmon", "category": "mains", "price_cents": price, "currency": "USD",
                        "allergens": ["fish"], "dietary_tags": [String](), "available": true, "sort_order": 1,
                        "version": 1, "updated_at": now,
                    ], at: now)
            }
            let first = try await writeSalmon(price: 2400)
            _ = try await Self.hqWrite(
                hq, site: site, table: "menu_item_translations", id: "salmon-en",
                row: [
                    "id": "salmon-en", "menu_item_id": "salmon", "language": "en", "name": "Salmon",
                    "description": "Grilled",
                ], at: now)
            _ = try await box.downloader.pull()
            let catalog = MenuCatalog(database: box.database)
            #expect(try await catalog.items(language: "en").map(\.item.id) == ["salmon"])
            #expect(try await catalog.setAvailable(itemID: "salmon", available: false, actor: "staff"))

            // Headquarters changes only the words: the item does not come down, it stays off.
            _ = try await Self.hqWrite(
                hq, site: site, table: "menu_item_translations", id: "salmon-en",
                row: [
                    "id": "salmon-en", "menu_item_id": "salmon", "language": "en", "name": "Wild salmon",
                    "description": "Grilled",
                ], at: now + 1)
            #expect(try await box.downloader.pull().applied == 1)
            #expect(try await catalog.items(language: "en").isEmpty)
            // Everything downloaded again from the start (a lost cursor): the same version keeps it off.
            try await box.database.write { db in
                try db.execute(sql: "DELETE FROM sync_state WHERE id = 'download_cursor'")
            }
            #expect(try await box.downloader.pull().applied == 2)
            #expect(try await catalog.items(language: "en").isEmpty)
            #expect(try await catalog.allItems(language: "en").map(\.available) == [false])
            #expect(try await catalog.allItems(language: "en").first?.item.version == first)

            // Headquarters changes the item: its availability wins and the override is gone.
            let second = try await writeSalmon(price: 2600)
            #expect(second == first + 1)
            _ = try await box.downloader.pull()
            let items = try await catalog.items(language: "en")
            #expect(items.map(\.name) == ["Wild salmon"] && items.first?.item.priceCents == 2600)
            let overrides = try await box.database.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM menu_item_overrides")!
            }
            #expect(overrides == 0)
            await box.client.shutdown()
        }
    }

    @Test("menus and online bookings come down by cursor, once, in one transaction each page, never into the outbox")
    func downloads() async throws {
        try await withBox { hq, box in
            let site = box.link.siteID
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            _ = try await Self.hqWrite(
                hq, site: site, table: "menu_items", id: "tiramisu",
                row: [
                    "id": "tiramisu", "category": "desserts", "price_cents": 750, "currency": "USD",
                    "allergens": ["egg"],
                    "dietary_tags": [String](), "available": true, "sort_order": 1, "version": 1, "updated_at": now,
                ], at: now)
            _ = try await Self.hqWrite(
                hq, site: site, table: "menu_item_translations", id: "tiramisu-es",
                row: [
                    "id": "tiramisu-es", "menu_item_id": "tiramisu", "language": "es", "name": "Tiramisú",
                    "description": "Con café",
                ],
                at: now)
            _ = try await Self.hqWrite(
                hq, site: site, table: "reservations", id: "web-1",
                row: Self.reservationRow("web-1", name: "Grace", party: 3),
                at: now)
            var downloader = box.downloader
            downloader.pageSize = 2
            let report = try await downloader.pull()
            #expect(report.applied == 3)
            #expect(report.pages == 2)
            #expect(report.changedMenuItems == ["tiramisu"])
            #expect(try await box.reservation("web-1")?.name == "Grace")
            let (translation, cursor, outbox) = try await box.database.read { db in
                (
                    try String.fetchOne(db, sql: "SELECT name FROM menu_item_translations WHERE id = 'tiramisu-es'"),
                    try String.fetchOne(db, sql: "SELECT value FROM sync_state WHERE id = 'download_cursor'"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox")!
                )
            }
            #expect(translation == "Tiramisú")
            #expect(cursor == "c1.3")
            #expect(outbox == 0, "downloaded rows do not travel back")
            let again = try await box.downloader.pull()
            #expect(again.applied == 0)
            // Another site's writes never reach this box.
            let other = try await hq.directory.addSite(name: "B")
            _ = try await Self.hqWrite(
                hq, site: other.id, table: "reservations", id: "web-b",
                row: Self.reservationRow("web-b", name: "Other", party: 2),
                at: now)
            #expect(try await box.downloader.pull().applied == 0)
            #expect(try await box.reservation("web-b") == nil)
            await box.client.shutdown()
        }
    }

    @Test(
        "booking settings written at headquarters come down, are kept, and change the box's rules at once; a box cannot send settings"
    )
    func settings() async throws {
        try await withBox { hq, box in
            let site = box.link.siteID
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let policies = ReservationPolicySource(
                configured: ReservationPolicy(
                    timeZone: TimeZone(identifier: "UTC")!, openingHours: [2: [.init("17:00-22:00")!]],
                    seatsPerSlot: 40))
            let version = try await Self.hqWrite(
                hq, site: site, table: "site_settings", id: SiteSettings.singletonID,
                row: [
                    "opening_hours": ["2": ["12:00-15:00", "18:00-23:00"], "3": ["18:00-23:00"]],
                    "seats_per_slot": 24, "dining_minutes": 105,
                ], at: now)
            #expect(version == 1)
            let report = try await box.downloader.pull()
            let settings = try #require(report.settings)
            #expect(settings.seatsPerSlot == 24 && settings.version == 1)
            #expect(try await SiteSettingsStore(database: box.database).current() == settings)
            try policies.apply(settings)
            #expect(policies.current.openingHours[2]?.count == 2)
            #expect(policies.current.seatsPerSlot == 24 && policies.current.diningMinutes == 105)

            // Changed again at headquarters: the newer version replaces it.
            _ = try await Self.hqWrite(
                hq, site: site, table: "site_settings", id: SiteSettings.singletonID, row: ["seats_per_slot": 30],
                at: now + 1)
            #expect(try await box.downloader.pull().settings?.seatsPerSlot == 30)
            #expect(try await SiteSettingsStore(database: box.database).current()?.version == 2)

            // Headquarters owns them: a box's attempt to send settings is rejected, and changes nothing.
            let result = try await box.client.upload(
                UploadBatch(
                    idempotencyKey: "settings-from-box", siteID: site,
                    changes: [.upsert(.siteSettings(SiteSettings(seatsPerSlot: 500, version: 9)), changedAt: now)]),
                identity: box.identity, deviceID: box.link.deviceID)
            #expect(result.rows.first?.outcome == .rejected)
            var seats: String?
            for try await value in try await hq.database.client.query(
                "SELECT row ->> 'seats_per_slot' FROM site_settings WHERE site_id = \(site)"
            ).decode(String.self) {
                seats = value
            }
            #expect(seats == "30")
            await box.client.shutdown()
        }
    }

    @Test("a cursor that does not parse is refused with 400")
    func badCursor() async throws {
        try await withBox { _, box in
            do {
                _ = try await box.client.download(
                    cursor: "garbage", limit: 10, identity: box.identity, deviceID: box.link.deviceID)
                Issue.record("a bad cursor was accepted")
            } catch let error as SyncError {
                #expect(error.status == 400 && error.serverCode == "bad_cursor")
            }
        }
    }

    @Test(
        "a reservation changed on both sides: the later change wins at both ends, and both versions are in the history")
    func conflicts() async throws {
        try await withBox { hq, box in
            let site = box.link.siteID
            let base = Int64(Date().timeIntervalSince1970 * 1000)
            for (id, boxIsLater) in [("r-box-wins", true), ("r-hq-wins", false)] {
                // Booked on the box, uploaded.
                let booked = Reservation(
                    id: id, name: "Ada", phone: "+15551234567", partySize: 2, startsAt: 1_800_000_000_000,
                    durationMinutes: 90,
                    source: .phoneAgent, version: 1, createdAt: base, updatedAt: base)
                try await box.database.write { db in try booked.insert(db) }
                _ = try await box.client.upload(
                    UploadBatch(
                        idempotencyKey: "\(id)-1", siteID: site,
                        changes: [.upsert(.reservation(booked), changedAt: base)]),
                    identity: box.identity, deviceID: box.link.deviceID)
                // Changed at headquarters (party of 6) and on the box (party of 4), both to version 2.
                _ = try await Self.hqWrite(
                    hq, site: site, table: "reservations", id: id, row: Self.reservationRow(id, name: "Ada", party: 6),
                    at: base + (boxIsLater ? 1000 : 3000))
                var changed = booked
                changed.partySize = 4
                changed.version = 2
                let onBox = changed
                try await box.database.write { db in try onBox.update(db) }
                let result = try await box.client.upload(
                    UploadBatch(
                        idempotencyKey: "\(id)-2", siteID: site,
                        changes: [.upsert(.reservation(onBox), changedAt: base + 2000)]),
                    identity: box.identity, deviceID: box.link.deviceID)
                #expect(result.rows.first?.outcome == (boxIsLater ? .applied : .superseded))
                _ = try await box.downloader.pull()
                let final = try #require(try await box.reservation(id))
                #expect(final.partySize == (boxIsLater ? 4 : 6))
                var stored: Int?
                for try await party in try await hq.database.client.query(
                    "SELECT party_size FROM reservations WHERE site_id = \(site) AND id = \(id)"
                ).decode(Int.self) {
                    stored = party
                }
                #expect(stored == final.partySize, "both ends agree")
                var history: [String] = []
                for try await (origin, outcome) in try await hq.database.client.query(
                    "SELECT origin, outcome FROM reservation_history WHERE site_id = \(site) AND reservation_id = \(id) AND version = 2 ORDER BY origin"
                ).decode((String, String).self) {
                    history.append("\(origin):\(outcome)")
                }
                #expect(history == ["box:\(boxIsLater ? "won" : "lost")", "hq:applied"])
            }
            await box.client.shutdown()
        }
    }

    /// The box's wall clock, an hour fast.
    struct FastClock: WallClock {
        func now() -> Date { Date().addingTimeInterval(3600) }
    }

    @Test(
        "a box an hour fast loses a conflict headquarters made later in real time: its changes are stamped on headquarters' time"
    )
    func fastBoxClock() async throws {
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let folder = TemporaryFolder(prefix: "box")
                let database = try EdgeDatabase(
                    dataDirectory: folder.path, clock: FastClock(), logger: Logger(label: "box"))
                let client = try SyncClient(baseURL: url, logger: Auth.logger) {
                    Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
                }
                let box = Box(database: database, client: client, identity: identity, link: link, folder: folder.path)
                let uploader = OutboxUploadTests.uploader(database, client: client, identity: identity, link: link)
                let id = "r-fast"
                var booked = Reservation(
                    id: id, name: "Ada", phone: "+15551234567", partySize: 2, startsAt: 1_800_000_000_000,
                    durationMinutes: 90, source: .phoneAgent, version: 1, createdAt: 0, updatedAt: 0)
                let first = booked
                try await database.write { db in
                    try first.insert(db)
                    try Outbox.enqueueUpsert(.reservation(first), at: database.clock.nowMilliseconds(), in: db)
                }
                _ = try await uploader.drain()
                _ = try await box.downloader.pull()  // measures headquarters' clock

                // The box changes it (version 2), then, a little later in real time and without having
                // seen that change, headquarters does too.
                booked.partySize = 4
                booked.version = 2
                let onBox = booked
                try await database.write { db in
                    try onBox.update(db)
                    try Outbox.enqueueUpsert(.reservation(onBox), at: database.clock.nowMilliseconds(), in: db)
                }
                let realNow = Int64(Date().timeIntervalSince1970 * 1000)
                _ = try await Self.hqWrite(
                    hq, site: link.siteID, table: "reservations", id: id,
                    row: Self.reservationRow(id, name: "Ada", party: 6), at: realNow + 2000)
                let report = try await uploader.drain()
                #expect(report.superseded == 1, "the box's change was earlier on headquarters' time")
                _ = try await box.downloader.pull()
                #expect(try await box.reservation(id)?.partySize == 6)
                var history: [String] = []
                for try await (origin, outcome) in try await hq.database.client.query(
                    "SELECT origin, outcome FROM reservation_history WHERE site_id = \(link.siteID) AND reservation_id = \(id) AND version = 2 ORDER BY origin"
                ).decode((String, String).self) {
                    history.append("\(origin):\(outcome)")
                }
                #expect(history == ["box:lost", "hq:applied"])
                await client.shutdown()
                try database.close()
            }
        }
    }
}
