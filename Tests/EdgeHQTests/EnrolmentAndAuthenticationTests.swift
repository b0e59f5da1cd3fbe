import AsyncHTTPClient
import CompressNIO
import Crypto
import EdgeHQ
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Sync
import SyncAgent
import Testing

/// Enrolment with one-time tokens, and the checks on every signed request: unknown, revoked, stale,
/// replayed and tampered requests, and a box of one site writing for another.
@Suite("Headquarters: enrolment and signed requests", .serialized)
struct EnrolmentAndAuthenticationTests {
    static let logger = Logger(label: "test")

    /// Enrols a new box for a new site; returns its identity and link.
    static func enrolledBox(_ hq: HQHarness, url: String, site name: String) async throws -> (
        DeviceIdentity, HeadquartersLink
    ) {
        let site = try await hq.directory.addSite(name: name)
        let (token, _) = try await hq.directory.makeEnrolmentToken(site: site.id, validFor: .seconds(3600))
        let identity = DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey())
        let client = try SyncClient(baseURL: url, logger: logger)
        defer { Task { await client.shutdown() } }
        let answer = try await client.enrol(token: token, identity: identity, name: "box-\(name)")
        #expect(answer.siteID == site.id)
        return (
            identity,
            HeadquartersLink(
                url: url, deviceID: answer.deviceID, siteID: answer.siteID, siteName: answer.siteName,
                caCertificatePEM: nil)
        )
    }

    static func reservationChange(id: String, version: Int64 = 1, name: String = "Ada") -> SyncChange {
        .upsert(
            .reservation(
                Reservation(
                    id: id, customerID: nil, name: name, phone: "+15551234567", partySize: 2,
                    startsAt: 1_800_000_000_000,
                    durationMinutes: 90, status: .confirmed, source: .phoneAgent, notes: nil, callID: nil,
                    version: version, createdAt: 1, updatedAt: 1)),
            changedAt: Int64(Date().timeIntervalSince1970 * 1000))
    }

    @Test(
        "a token enrols one box once; a used, unknown or expired token is refused; headquarters keeps only the public key"
    )
    func enrolment() async throws {
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let site = try await hq.directory.addSite(name: "Trattoria Roma")
                let (token, _) = try await hq.directory.makeEnrolmentToken(
                    site: "Trattoria Roma", validFor: .seconds(3600))
                let identity = DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey())
                let client = try SyncClient(baseURL: url, logger: Self.logger)
                let answer = try await client.enrol(token: token, identity: identity, name: "box-1")
                #expect(answer.siteID == site.id && answer.siteName == "Trattoria Roma")
                let device = try #require(try await hq.directory.device(id: answer.deviceID))
                #expect(device.publicKey == Array(identity.privateKey.publicKey.rawRepresentation))

                // Used once: a second box cannot use it.
                let other = DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey())
                await #expect(throws: SyncError.self) {
                    try await client.enrol(token: token, identity: other, name: "box-2")
                }
                do {
                    _ = try await client.enrol(token: "not-a-token", identity: other, name: "box-2")
                } catch let error as SyncError {
                    #expect(error.status == 401 && error.serverCode == "invalid_token")
                }
                let (expired, _) = try await hq.directory.makeEnrolmentToken(site: site.id, validFor: .seconds(-1))
                do {
                    _ = try await client.enrol(token: expired, identity: other, name: "box-2")
                    Issue.record("an expired token enrolled a box")
                } catch let error as SyncError {
                    #expect(error.serverCode == "invalid_token")
                }
                // Only the token's hash is stored.
                var stored: [ByteBuffer] = []
                for try await hash in try await hq.database.client.query("SELECT token_sha256 FROM enrolment_tokens")
                    .decode(ByteBuffer.self)
                {
                    stored.append(hash)
                }
                #expect(!stored.contains { Array($0.readableBytesView) == Array(token.utf8) })
                #expect(try await hq.count("devices") == 1)
                await client.shutdown()
            }
        }
    }

    /// Posts `body` to the upload endpoint signed as `signer` would, with `override` applied last.
    static func post(
        _ url: String, body: [UInt8], signedBody: [UInt8]? = nil, signer: RequestSigner,
        override: (inout HTTPClientRequest) -> Void = { _ in }
    ) async throws -> (status: UInt, code: String?) {
        var request = HTTPClientRequest(url: url + "/v1/sync/upload")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        signer.sign(&request, target: "/v1/sync/upload", body: ByteBuffer(bytes: signedBody ?? body))
        override(&request)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let data = try await response.body.collect(upTo: 1 << 20)
        let code = try? JSONDecoder().decode(SyncErrorBody.self, from: Data(data.readableBytesView)).error.code
        return (response.status.code, code)
    }

    @Test(
        "unknown, revoked, stale, replayed and tampered requests are each refused with their own code, and apply nothing"
    )
    func refusals() async throws {
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identity, link) = try await Self.enrolledBox(hq, url: url, site: "A")
                let batch = UploadBatch(
                    idempotencyKey: "k1", siteID: link.siteID, changes: [Self.reservationChange(id: "r1")])
                let body = Array(try JSONEncoder().encode(batch))
                let signer = RequestSigner(identity: identity, deviceID: link.deviceID)

                let stranger = RequestSigner(
                    identity: DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey()), deviceID: "no-such-device")
                #expect(try await Self.post(url, body: body, signer: stranger) == (401, "unknown_device"))

                let impostor = RequestSigner(
                    identity: DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey()), deviceID: link.deviceID)
                #expect(try await Self.post(url, body: body, signer: impostor) == (401, "bad_signature"))

                let old = RequestSigner(identity: identity, deviceID: link.deviceID) {
                    Int64(Date().timeIntervalSince1970 * 1000) - 10 * 60_000
                }
                #expect(try await Self.post(url, body: body, signer: old) == (401, "stale_request"))

                var tampered = body
                tampered[tampered.count / 2] ^= 0x01
                #expect(
                    try await Self.post(url, body: tampered, signedBody: body, signer: signer) == (401, "bad_signature")
                )

                #expect(
                    try await Self.post(url, body: body, signer: signer) {
                        $0.headers.remove(name: SignedRequest.signatureHeader)
                    }
                        == (401, "unsigned"))
                #expect(try await hq.count("reservations") == 0, "nothing refused was applied")

                // A signed request goes through once; the very same request again is a replay.
                var captured: HTTPClientRequest?
                let first = try await Self.post(url, body: body, signer: signer) { captured = $0 }
                #expect(first.status == 200)
                var replay = try #require(captured)
                replay.body = .bytes(ByteBuffer(bytes: body))
                let again = try await HTTPClient.shared.execute(replay, timeout: .seconds(10))
                let againBody = try await again.body.collect(upTo: 1 << 20)
                #expect(again.status.code == 401)
                #expect(String(buffer: againBody).contains("replayed_request"))

                let devices = try await hq.directory.devices()
                try await hq.directory.revoke(deviceID: link.deviceID)
                #expect(devices.count == 1)
                #expect(try await Self.post(url, body: body, signer: signer) == (403, "revoked_device"))
                #expect(try await hq.count("reservations") == 1)
            }
        }
    }

    @Test("a box of site A cannot write for site B, and its rows never touch B's")
    func siteIsolation() async throws {
        try await HQHarness.with { hq in
            try await hq.serve { url in
                let (identityA, linkA) = try await Self.enrolledBox(hq, url: url, site: "A")
                let (identityB, linkB) = try await Self.enrolledBox(hq, url: url, site: "B")
                let client = try SyncClient(baseURL: url, logger: Self.logger)
                _ = try await client.upload(
                    UploadBatch(
                        idempotencyKey: "b1", siteID: linkB.siteID,
                        changes: [Self.reservationChange(id: "shared", name: "Grace")]),
                    identity: identityB, deviceID: linkB.deviceID)
                // A names B's site: refused whole.
                do {
                    _ = try await client.upload(
                        UploadBatch(
                            idempotencyKey: "a1", siteID: linkB.siteID,
                            changes: [Self.reservationChange(id: "shared", version: 9, name: "Mallory")]),
                        identity: identityA, deviceID: linkA.deviceID)
                    Issue.record("a box wrote for another site")
                } catch let error as SyncError {
                    #expect(error.status == 403 && error.serverCode == "site_mismatch")
                }
                // A writes the same row id for its own site: B's row is untouched.
                _ = try await client.upload(
                    UploadBatch(
                        idempotencyKey: "a2", siteID: linkA.siteID,
                        changes: [Self.reservationChange(id: "shared", version: 9, name: "Mallory")]),
                    identity: identityA, deviceID: linkA.deviceID)
                var names: [String: String] = [:]
                for try await (site, name) in try await hq.database.client.query(
                    "SELECT site_id, row ->> 'name' FROM reservations WHERE id = 'shared'"
                ).decode((String, String).self) {
                    names[site] = name
                }
                #expect(names == [linkB.siteID: "Grace", linkA.siteID: "Mallory"])
                await client.shutdown()
            }
        }
    }
}
