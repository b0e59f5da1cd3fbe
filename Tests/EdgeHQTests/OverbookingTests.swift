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

/// A booking taken on a box offline meets an online booking for the same evening: both are kept, and
/// the overbooked moment is flagged for staff at headquarters and on the box, until it is resolved.
@Suite("Sync: an overbooked slot after a merge", .serialized)
struct OverbookingTests {
    typealias Auth = EnrolmentAndAuthenticationTests
    typealias Downloads = DownloadAndConflictTests

    @Test("flagged at both ends, nothing dropped; a cancellation resolves it at both ends")
    func overbookedAfterMerge() async throws {
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let site = link.siteID
                let folder = TemporaryFolder(prefix: "box")
                let database = try EdgeDatabase(dataDirectory: folder.path, logger: Logger(label: "box"))
                let client = try SyncClient(baseURL: url, logger: Auth.logger)
                let box = Downloads.Box(
                    database: database, client: client, identity: identity, link: link, folder: folder.path)
                let uploader = OutboxUploadTests.uploader(database, client: client, identity: identity, link: link)
                let utc = TimeZone(identifier: "UTC")!
                let everyDay = Dictionary(
                    uniqueKeysWithValues: (1...7).map { ($0, [ReservationPolicy.Period("17:00-22:00")!]) })
                let policies = ReservationPolicySource(
                    configured: ReservationPolicy(timeZone: utc, openingHours: everyDay, seatsPerSlot: 40))
                let now = Int64(Date().timeIntervalSince1970 * 1000)

                // Headquarters sets 10 seats; the box learns it.
                _ = try await Downloads.hqWrite(
                    hq, site: site, table: "site_settings", id: SiteSettings.singletonID,
                    row: ["seats_per_slot": 10], at: now)
                try policies.apply(try #require(try await box.downloader.pull().settings))

                // Offline, the box books 6 at 19:00 in ten days; meanwhile 6 book online for 19:00.
                let date = LocalDate(Date(), in: utc).adding(days: 10)
                let seven = LocalTime("19:00")!
                let book = ReservationBook(database: database, policies: policies)
                let ada = try await book.create(
                    .init(
                        name: "Ada", phone: "+15551234567", partySize: 6, date: date, time: seven, source: .phoneAgent),
                    actor: "test")
                var web = Downloads.reservationRow("web-1", name: "Grace", party: 6)
                web["starts_at"] = ada.startsAt
                _ = try await Downloads.hqWrite(hq, site: site, table: "reservations", id: "web-1", row: web, at: now)

                // Back online: headquarters flags the moment when the box's booking arrives.
                _ = try await uploader.drain()
                let flags = OverbookedSlots(database: hq.database, logger: Auth.logger)
                let atHQ = try await flags.open(site: site)
                #expect(atHQ.count == 1)
                #expect(atHQ.first?.moment == ada.startsAt)
                #expect(atHQ.first?.seatsHeld == 12 && atHQ.first?.seats == 10)
                #expect(atHQ.first?.reservationIDs.sorted() == [ada.id, "web-1"].sorted())

                // The box flags it when the online booking comes down, and tells the staff.
                let download = try await box.downloader.pull()
                #expect(download.reservationStarts == [ada.startsAt])
                let monitor = OverbookingMonitor(database: database)
                let dates = Set(download.reservationStarts.map { LocalDate(Date(unixMilliseconds: $0), in: utc) })
                let found = try await monitor.check(dates: dates, policy: policies.current)
                #expect(found.count == 1 && found.first?.seatsHeld == 12)
                let messages = try await StaffMessageBoard(database: database).open()
                #expect(messages.count == 1)
                #expect(messages.first?.message.contains("12 guests for 10 seats") == true)
                #expect(messages.first?.message.contains("Grace (6, headquarters)") == true)
                // Checking again changes nothing and says nothing new.
                #expect(try await monitor.check(dates: dates, policy: policies.current).isEmpty)
                #expect(try await StaffMessageBoard(database: database).open().count == 1)
                // Nothing was dropped at either end.
                #expect(try await box.reservation("web-1")?.status == .confirmed)
                #expect(try await box.reservation(ada.id)?.status == .confirmed)
                #expect(try await hq.count("reservations", site: site) == 2)

                // Grace cancels online: resolved at headquarters at once, on the box when it comes down.
                web["status"] = "cancelled"
                _ = try await Downloads.hqWrite(
                    hq, site: site, table: "reservations", id: "web-1", row: web, at: now + 1)
                #expect(try await flags.open(site: site).isEmpty)
                let second = try await box.downloader.pull()
                let again = Set(second.reservationStarts.map { LocalDate(Date(unixMilliseconds: $0), in: utc) })
                _ = try await monitor.check(dates: again, policy: policies.current)
                #expect(try await monitor.open().isEmpty)
                await client.shutdown()
                try database.close()
            }
        }
    }

    @Test("fewer seats set at headquarters flag the bookings already taken, at headquarters")
    func fewerSeats() async throws {
        try await HQHarness.with { hq in
            let site = try await hq.directory.addSite(name: "A")
            let start = Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000
            for (id, party) in [("r1", 4), ("r2", 4)] {
                var row = Downloads.reservationRow(id, name: id, party: party)
                row["starts_at"] = start
                _ = try await Downloads.hqWrite(hq, site: site.id, table: "reservations", id: id, row: row, at: 1)
            }
            let flags = OverbookedSlots(database: hq.database, logger: Auth.logger)
            #expect(try await flags.open(site: site.id).isEmpty, "no seats known yet: nothing judged")
            _ = try await Downloads.hqWrite(
                hq, site: site.id, table: "site_settings", id: SiteSettings.singletonID, row: ["seats_per_slot": 6],
                at: 2)
            #expect(try await flags.open(site: site.id).map(\.seatsHeld) == [8])
            _ = try await Downloads.hqWrite(
                hq, site: site.id, table: "site_settings", id: SiteSettings.singletonID, row: ["seats_per_slot": 8],
                at: 3)
            #expect(try await flags.open(site: site.id).isEmpty)
        }
    }
}
