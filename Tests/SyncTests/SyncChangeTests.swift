import Foundation
import Testing

@testable import Sync

@Suite("Sync wire types")
struct SyncChangeTests {
    let reservation = Reservation(
        id: "r1", name: "Ada", phone: "+15551234567", partySize: 4, startsAt: 1_796_000_000_000, durationMinutes: 90,
        source: .phoneAgent, createdAt: 1, updatedAt: 2)

    @Test("a change round-trips through JSON with snake_case keys and its row untagged")
    func roundTrip() throws {
        let change = SyncChange.upsert(.reservation(reservation), changedAt: 42)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(change), as: UTF8.self)
        #expect(json.contains(#""table":"reservations""#))
        #expect(json.contains(#""row_id":"r1""#))
        #expect(json.contains(#""party_size":4"#))
        #expect(json.contains(#""changed_at":42"#))
        #expect(try JSONDecoder().decode(SyncChange.self, from: Data(json.utf8)) == change)
    }

    @Test("an erasure carries no row")
    func tombstone() throws {
        let erase = SyncChange(table: .customers, rowID: "c1", operation: .erase, version: 3, changedAt: 7, row: nil)
        let data = try JSONEncoder().encode(erase)
        #expect(try JSONDecoder().decode(SyncChange.self, from: data) == erase)
    }

    @Test(
        "contradictory changes are refused when decoded",
        arguments: [
            #"{"table":"reservations","row_id":"r1","operation":"upsert","version":1,"changed_at":1,"row":null}"#,
            #"{"table":"customers","row_id":"c1","operation":"erase","version":1,"changed_at":1,"row":{"id":"c1","phone":"+15551234567","call_count":0,"version":1,"created_at":1,"updated_at":1}}"#,
            #"{"table":"customers","row_id":"other","operation":"upsert","version":1,"changed_at":1,"row":{"id":"c1","phone":"+15551234567","call_count":0,"version":1,"created_at":1,"updated_at":1}}"#,
            #"{"table":"customers","row_id":"c1","operation":"delete","version":0,"changed_at":1,"row":null}"#,
            #"{"table":"no_such_table","row_id":"c1","operation":"delete","version":1,"changed_at":1,"row":null}"#,
        ])
    func refused(json: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SyncChange.self, from: Data(json.utf8))
        }
    }

    @Test("every synced table decodes its own row type")
    func everyTable() throws {
        let rows: [SyncRow] = [
            .reservation(reservation),
            .customer(Customer(id: "c", phone: "+15551234567", createdAt: 1, updatedAt: 1)),
            .call(
                Call(
                    id: "k", callSid: "CA1", fromNumber: "+1", toNumber: "+2", status: .ringing, startedAt: 1,
                    updatedAt: 1)),
            .conversationTurn(
                ConversationTurn(id: "t", callID: "k", sequence: 1, speaker: .agent, text: "hi", startedAt: 1)),
            .toolExecution(
                ToolExecution(
                    id: "x", callID: "k", tool: "get_menu", arguments: "{}", result: "{}", status: .ok, startedAt: 1,
                    durationMilliseconds: 2)),
            .callMetric(CallMetric(id: "m", callID: "k", name: "turns", value: 3, recordedAt: 1)),
            .menuItem(
                MenuItem(
                    id: "i", category: "mains", priceCents: 100, currency: "USD", allergens: ["milk"], updatedAt: 1)),
            .menuItemTranslation(
                MenuItemTranslation(id: "i:en", menuItemID: "i", language: "en", name: "A", description: "B")),
            .recording(
                Recording(
                    id: "rec", callID: "k", fileName: "rec.eop", sealedKey: Data([1, 2, 3]), state: .complete,
                    startedAt: 1)),
            .siteSettings(
                SiteSettings(
                    openingHours: ["1": [], "2": ["17:00-22:00"]], closedDates: ["2026-12-25"], seatsPerSlot: 30,
                    version: 2)),
            .dailyCallSummary(DailyCallSummary(id: "2026-12-01", calls: 3, reservationsCreated: 1, talkSeconds: 240)),
            .voicemail(
                Voicemail(
                    id: "vm_RE1", callSID: "CA1", caller: "+15551234567", language: "es", durationSeconds: 14,
                    calledAt: 1)),
        ]
        #expect(Set(rows.map(\.table)) == Set(SyncTable.allCases))
        for row in rows {
            let change = SyncChange.upsert(row, changedAt: 9)
            #expect(try JSONDecoder().decode(SyncChange.self, from: JSONEncoder().encode(change)) == change)
        }
        let batch = UploadBatch(idempotencyKey: "k1", siteID: "site-1", changes: rows.map { .upsert($0, changedAt: 1) })
        #expect(try JSONDecoder().decode(UploadBatch.self, from: JSONEncoder().encode(batch)) == batch)
    }

    @Test("Twilio's call status spellings map to ours")
    func callStatus() {
        #expect(Call.Status(twilioValue: "in-progress") == .inProgress)
        #expect(Call.Status(twilioValue: "no-answer") == .noAnswer)
        #expect(Call.Status(twilioValue: "exploded") == nil)
        #expect(Call.Status.completed.isTerminal)
        #expect(!Call.Status.ringing.isTerminal)
    }
}
