import AsyncHTTPClient
import Crypto
import EdgeHQ
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Sync
import SyncAgent
import Testing

/// Upload batches at headquarters: one transaction per batch, the version guard, idempotent repeats,
/// erasures that win, and bad input refused whole.
@Suite("Headquarters: upload batches", .serialized)
struct BatchIngestTests {
    typealias Auth = EnrolmentAndAuthenticationTests

    func withBox(
        _ body: @Sendable (HQHarness, String, SyncClient, DeviceIdentity, HeadquartersLink) async throws -> Void
    ) async throws {
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let client = try SyncClient(baseURL: url, logger: Auth.logger)
                do {
                    try await body(hq, url, client, identity, link)
                } catch {
                    await client.shutdown()
                    throw error
                }
                await client.shutdown()
            }
        }
    }

    @Test(
        "the same batch twice gets the same answer and applies once; an older version is superseded; history keeps each"
    )
    func idempotentAndVersioned() async throws {
        try await withBox { hq, _, client, identity, link in
            let batch = UploadBatch(
                idempotencyKey: "k1", siteID: link.siteID,
                changes: [
                    Auth.reservationChange(id: "r1", version: 1),
                    Auth.reservationChange(id: "r1", version: 2, name: "Ada L"),
                ])
            let first = try await client.upload(batch, identity: identity, deviceID: link.deviceID)
            let second = try await client.upload(batch, identity: identity, deviceID: link.deviceID)
            #expect(first == second)
            #expect(first.rows.map(\.outcome) == [.applied, .applied])
            #expect(try await hq.count("reservations") == 1)
            #expect(try await hq.count("reservation_history") == 2)

            let stale = try await client.upload(
                UploadBatch(
                    idempotencyKey: "k2", siteID: link.siteID,
                    changes: [Auth.reservationChange(id: "r1", version: 1, name: "Old")]),
                identity: identity, deviceID: link.deviceID)
            #expect(stale.rows.first?.outcome == .superseded)
            #expect(stale.rows.first?.version == 2)
            for try await name in try await hq.database.client.query("SELECT row ->> 'name' FROM reservations")
                .decode(String.self)
            {
                #expect(name == "Ada L")
            }
            // The same key with another body is a client bug, refused.
            do {
                _ = try await client.upload(
                    UploadBatch(idempotencyKey: "k1", siteID: link.siteID, changes: [Auth.reservationChange(id: "r9")]),
                    identity: identity, deviceID: link.deviceID)
                Issue.record("a reused key was accepted")
            } catch let error as SyncError {
                #expect(error.status == 409 && error.serverCode == "idempotency_key_reused")
            }
            #expect(try await hq.count("reservations") == 1)
        }
    }

    @Test("an erasure removes the row and a call's children, and wins over a write that arrives after it")
    func erasureWins() async throws {
        try await withBox { hq, _, client, identity, link in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let call = Call(
                id: "c1", callSid: "CA00000000000000000000000000000001", fromNumber: "+15551234567",
                toNumber: "+15557654321", direction: "inbound", status: .completed, startedAt: 1, updatedAt: 1)
            let turn = ConversationTurn(
                id: "t1", callID: "c1", sequence: 1, speaker: .caller, text: "hello", startedAt: 1)
            _ = try await client.upload(
                UploadBatch(
                    idempotencyKey: "up", siteID: link.siteID,
                    changes: [.upsert(.call(call), changedAt: now), .upsert(.conversationTurn(turn), changedAt: now)]),
                identity: identity, deviceID: link.deviceID)
            #expect(try await hq.count("conversation_turns") == 1)
            _ = try await client.upload(
                UploadBatch(
                    idempotencyKey: "erase", siteID: link.siteID,
                    changes: [
                        SyncChange(table: .calls, rowID: "c1", operation: .erase, version: 2, changedAt: now, row: nil)
                    ]),
                identity: identity, deviceID: link.deviceID)
            #expect(try await hq.count("calls") == 0)
            #expect(try await hq.count("conversation_turns") == 0)
            // A late delivery of an older write (or of the call's turn) does not bring anything back.
            var late = call
            late.version = 5
            let result = try await client.upload(
                UploadBatch(
                    idempotencyKey: "late", siteID: link.siteID,
                    changes: [.upsert(.call(late), changedAt: now), .upsert(.conversationTurn(turn), changedAt: now)]),
                identity: identity, deviceID: link.deviceID)
            #expect(result.rows.map(\.outcome) == [.superseded, .superseded])
            #expect(try await hq.count("calls") == 0)
            #expect(try await hq.count("conversation_turns") == 0)
        }
    }

    @Test(
        "a malformed batch, a bad gzip body, an oversized or empty batch, a change from the future, a menu row: refused, nothing applied"
    )
    func badInput() async throws {
        try await withBox { hq, url, client, identity, link in
            let signer = RequestSigner(identity: identity, deviceID: link.deviceID)
            let malformed = Array(
                #"{"idempotency_key":"m","site_id":"\#(link.siteID)","changes":[{"table":"reservations","row_id":"x","operation":"upsert","version":1,"changed_at":1,"row":null}]}"#
                    .utf8)
            #expect(try await Auth.post(url, body: malformed, signer: signer) == (400, "bad_request"))
            #expect(try await Auth.post(url, body: Array("not json".utf8), signer: signer) == (400, "bad_request"))
            #expect(
                try await Auth.post(url, body: [0x1f, 0x8b, 0x08, 0x00, 1, 2, 3], signer: signer) {
                    $0.headers.add(name: "Content-Encoding", value: "gzip")
                } == (400, "bad_request"))

            let future = SyncChange.upsert(
                Auth.reservationChange(id: "f").row!,
                changedAt: Int64(Date().timeIntervalSince1970 * 1000) + 3 * 86_400_000)
            do {
                _ = try await client.upload(
                    UploadBatch(
                        idempotencyKey: "f", siteID: link.siteID, changes: [Auth.reservationChange(id: "ok"), future]),
                    identity: identity, deviceID: link.deviceID)
                Issue.record("a change from the future was accepted")
            } catch let error as SyncError {
                #expect(error.status == 422 && error.serverCode == "version_from_the_future")
            }
            do {
                _ = try await client.upload(
                    UploadBatch(idempotencyKey: "e", siteID: link.siteID, changes: []), identity: identity,
                    deviceID: link.deviceID)
                Issue.record("an empty batch was accepted")
            } catch let error as SyncError {
                #expect(error.status == 400)
            }
            let tooMany = (0..<5001).map { Auth.reservationChange(id: "r\($0)") }
            do {
                _ = try await client.upload(
                    UploadBatch(idempotencyKey: "big", siteID: link.siteID, changes: tooMany), identity: identity,
                    deviceID: link.deviceID)
                Issue.record("an oversized batch was accepted")
            } catch let error as SyncError {
                #expect(error.status == 413 && error.serverCode == "batch_too_large")
            }
            #expect(try await hq.count("reservations") == 0)

            let menu = SyncChange.upsert(
                .menuItem(MenuItem(id: "m1", category: "mains", priceCents: 100, currency: "USD", updatedAt: 1)),
                changedAt: 1)
            let result = try await client.upload(
                UploadBatch(idempotencyKey: "menu", siteID: link.siteID, changes: [menu]), identity: identity,
                deviceID: link.deviceID)
            #expect(result.rows.first?.outcome == .rejected)
            #expect(try await hq.count("menu_items") == 0)
        }
    }
}
