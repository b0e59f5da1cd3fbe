import AsyncHTTPClient
import CallRecording
import Crypto
import EdgeHQ
import Foundation
import GRDB
import LocalStore
import Logging
import NIOCore
import PostgresNIO
import StoreTestSupport
import Sync
import Testing

@testable import SyncAgent

/// Recording files from the box to headquarters' store, against a real headquarters and PostgreSQL:
/// in parts, resumable, verified by the ciphertext hash, still sealed to the owner at the end.
@Suite("Box to headquarters: recording uploads", .serialized)
struct RecordingUploadTests {
    typealias Auth = EnrolmentAndAuthenticationTests

    /// A box in `folder` with one finished call recording of `seconds` of audio, sealed to a new owner
    /// key, its rows in the outbox. The caller is `phone`.
    struct Box {
        let database: EdgeDatabase
        let folder: String
        let recording: Recording
        let owner: RecordingIdentity
        var recordingsFolder: String { (folder as NSString).appendingPathComponent("recordings") }
        var path: String { (recordingsFolder as NSString).appendingPathComponent(recording.fileName) }
        var fileBytes: [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }
    }

    static let phone = "+15550001111"

    static func box(seconds: Int = 12) async throws -> Box {
        let folder = NSTemporaryDirectory() + "recording-upload-" + UUID().uuidString
        let recordings = (folder as NSString).appendingPathComponent("recordings")
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        let database = try EdgeDatabase(
            path: (folder as NSString).appendingPathComponent("edge.sqlite"), logger: Logger(label: "box"))
        let call = try await CallLog(database: database).inbound(
            callSid: "CA" + String(repeating: "7", count: 32), from: phone)
        let owner = try RecordingIdentity.generate()
        let id = UUID().uuidString.lowercased()
        let fileName = "\(id).sealed"
        let recorder = try CallRecorder(
            path: (recordings as NSString).appendingPathComponent(fileName), ownerPublicKey: owner.publicKey,
            start: .now)
        for frame in 0..<(seconds * 50) {
            // A caller who never stops talking: a changing pattern, so Opus has something to encode.
            await recorder.caller(
                (0..<160).map { UInt8((($0 * 7) + frame * 13) & 0xff) }, timestampMilliseconds: frame * 20)
        }
        let vault = RecordingVault(database: database)
        try await vault.begin(
            Recording(
                id: id, callID: call.id, fileName: fileName, sealedKey: Data(recorder.sealedKey), state: .recording,
                startedAt: 1_000))
        let summary = await recorder.finish()
        #expect(summary.complete)
        try await vault.finish(
            id: id, complete: true, durationMilliseconds: summary.durationMilliseconds, sizeBytes: summary.sizeBytes,
            ciphertextSHA256: summary.ciphertextSHA256)
        let recording = try #require(try await vault.recording(id: id))
        return Box(database: database, folder: folder, recording: recording, owner: owner)
    }

    static func drainOutbox(_ box: Box, client: SyncClient, identity: DeviceIdentity, link: HeadquartersLink)
        async throws
    {
        _ = try await OutboxUploadTests.uploader(box.database, client: client, identity: identity, link: link)
            .drain()
    }

    static func uploader(
        _ box: Box, client: SyncClient, identity: DeviceIdentity, link: HeadquartersLink, partBytes: Int = 8192,
        deleteAfterUpload: Bool = false
    ) -> RecordingUploader {
        var uploader = RecordingUploader(
            session: SyncSession(
                database: box.database, client: client, identity: identity, link: link,
                upstream: OutboxUploadTests.upstream(), logger: Auth.logger), folder: box.recordingsFolder)
        uploader.partBytes = partBytes
        uploader.deleteAfterUpload = deleteAfterUpload
        return uploader
    }

    static func storeFolder() -> String {
        NSTemporaryDirectory() + "hq-recordings-" + UUID().uuidString
    }

    /// Runs `body` with a fresh box (`seconds` of recording), a store folder for headquarters and the recording's
    /// size and ciphertext hash; closes the box's database after and removes both folders.
    static func withBoxAndStore(
        seconds: Int = 12, _ body: (_ box: Box, _ store: String, _ size: Int, _ sha: String) async throws -> Void
    ) async throws {
        let box = try await Self.box(seconds: seconds)
        let store = Self.storeFolder()
        defer {
            try? FileManager.default.removeItem(atPath: box.folder)
            try? FileManager.default.removeItem(atPath: store)
        }
        let size = try #require(box.recording.sizeBytes)
        let sha = try #require(box.recording.ciphertextSHA256)
        try await body(box, store, size, sha)
        try box.database.close()
    }

    static func stagedParts(_ hq: HQHarness) async throws -> Int { try await hq.count("recording_upload_parts") }

    @Test(
        "after its call a recording goes up in parts, is verified and stored in the folder still sealed to the owner, and the box's copy is deleted"
    )
    func uploadToFolder() async throws {
        try await Self.withBoxAndStore { box, store, size, sha in
            let original = box.fileBytes
            #expect(size > 4 * 8192)
            try await HQHarness.with(recordingStorage: .folder(store)) { hq in
                try await hq.serve { url in
                    let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                    let client = try SyncClient(baseURL: url, logger: Auth.logger)
                    try await Self.drainOutbox(box, client: client, identity: identity, link: link)

                    let report = try await Self.uploader(
                        box, client: client, identity: identity, link: link, deleteAfterUpload: true
                    ).uploadAll()
                    #expect(report.uploaded == 1)
                    #expect(report.bytesSent == size)
                    #expect(report.filesDeleted == 1)
                    #expect(report.damaged.isEmpty)

                    // Headquarters holds exactly the box's bytes, still encrypted; only the owner reads them.
                    let key = RecordingUploads.key(site: link.siteID, recording: box.recording.id)
                    let stored = try #require(
                        FileManager.default.contents(atPath: (store as NSString).appendingPathComponent(key)))
                    #expect(Array(stored) == original)
                    let plain = try SealedStreamReader.decrypt(Array(stored), identity: box.owner)
                    #expect(plain.complete)
                    #expect(!plain.bytes.isEmpty)
                    #expect(
                        SHA256.hash(data: stored).map { String(format: "%02x", $0) }.joined()
                            == box.recording.ciphertextSHA256)
                    #expect(
                        try await hq.app.recordings.status(site: link.siteID, id: box.recording.id)
                            == RecordingUploadStatus(receivedBytes: size, sizeBytes: size, stored: true))
                    #expect(try await Self.stagedParts(hq) == 0)
                    #expect(hq.app.metrics.exposition().contains("edge_hq_recording_bytes_total \(size)"))

                    // On the box: marked uploaded (audited), its copy gone, and nothing left to send.
                    #expect(!FileManager.default.fileExists(atPath: box.path))
                    let vault = RecordingVault(database: box.database)
                    #expect(try await vault.fileDeletedAfterUpload(id: box.recording.id) != nil)
                    #expect(try await vault.awaitingUpload().isEmpty)
                    let audited = try await box.database.read { db in
                        try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = 'recording.upload'")
                    }
                    #expect(audited == 1)
                    let again = try await Self.uploader(box, client: client, identity: identity, link: link).uploadAll()
                    #expect(again == RecordingUploader.Report())

                    // The caller's privacy erasure reaches headquarters and takes the stored file with it.
                    _ = try await PrivacyRequests(database: box.database).erase(phone: Self.phone, actor: "test") { _ in
                    }
                    try await Self.drainOutbox(box, client: client, identity: identity, link: link)
                    #expect(!FileManager.default.fileExists(atPath: (store as NSString).appendingPathComponent(key)))
                    await #expect(throws: SyncError.self) {
                        _ = try await client.openRecordingUpload(
                            id: box.recording.id,
                            RecordingUploadRequest(sizeBytes: size, sha256: sha),
                            identity: identity, deviceID: link.deviceID)
                    }
                    await client.shutdown()
                }
            }
        }
    }

    @Test("an upload cut off after two parts resumes where headquarters stopped and sends only the rest")
    func resumes() async throws {
        try await Self.withBoxAndStore { box, store, size, sha in
            try await HQHarness.with(recordingStorage: .folder(store)) { hq in
                try await hq.serve { url in
                    let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                    let client = try SyncClient(baseURL: url, logger: Auth.logger)
                    // A box that sent two parts and then lost power.
                    let bytes = box.fileBytes
                    _ = try await client.openRecordingUpload(
                        id: box.recording.id, RecordingUploadRequest(sizeBytes: size, sha256: sha), identity: identity,
                        deviceID: link.deviceID)
                    for offset in [0, 8192] {
                        _ = try await client.sendRecordingPart(
                            id: box.recording.id, offset: offset,
                            part: ByteBuffer(bytes: bytes[offset..<offset + 8192]),
                            identity: identity, deviceID: link.deviceID)
                    }
                    // A part sent again (its answer was lost) is refused, and changes nothing.
                    await #expect {
                        _ = try await client.sendRecordingPart(
                            id: box.recording.id, offset: 8192, part: ByteBuffer(bytes: bytes[8192..<16384]),
                            identity: identity, deviceID: link.deviceID)
                    } throws: {
                        ($0 as? SyncError)?.serverCode == "offset_mismatch" && ($0 as? SyncError)?.status == 409
                    }
                    #expect(
                        try await hq.app.recordings.status(site: link.siteID, id: box.recording.id)?.receivedBytes
                            == 16384)

                    let report = try await Self.uploader(box, client: client, identity: identity, link: link)
                        .uploadAll()
                    #expect(report.uploaded == 1)
                    #expect(report.bytesSent == size - 16384)
                    let key = RecordingUploads.key(site: link.siteID, recording: box.recording.id)
                    #expect(try await hq.app.recordings.status(site: link.siteID, id: box.recording.id)?.stored == true)
                    let stored = FileManager.default.contents(atPath: (store as NSString).appendingPathComponent(key))
                    #expect(stored.map(Array.init) == bytes)
                    // Without delete-after-upload the box keeps its copy.
                    #expect(FileManager.default.fileExists(atPath: box.path))
                    await client.shutdown()
                }
            }
        }
    }

    @Test(
        "refused: a damaged file on the box, bytes that do not hash as declared, a part beyond the file, a bad id, an unsigned request; another site's box cannot touch the upload"
    )
    func refusals() async throws {
        try await Self.withBoxAndStore(seconds: 4) { box, store, size, sha in
            let original = box.fileBytes
            try await HQHarness.with(recordingStorage: .folder(store)) { hq in
                try await hq.serve { url in
                    let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                    let client = try SyncClient(baseURL: url, logger: Auth.logger)
                    func code(_ body: () async throws -> Void) async -> (Int?, String?) {
                        do {
                            try await body()
                            return (nil, nil)
                        } catch let error as SyncError {
                            return (error.status, error.serverCode)
                        } catch {
                            return (nil, "\(error)")
                        }
                    }

                    // A byte flipped on the box's disk: not sent at all, and reported.
                    var damaged = original
                    damaged[damaged.count / 2] ^= 0x01
                    try Data(damaged).write(to: URL(fileURLWithPath: box.path))
                    let report = try await Self.uploader(box, client: client, identity: identity, link: link)
                        .uploadAll()
                    #expect(report.damaged == [box.recording.id])
                    #expect(report.uploaded == 0)
                    #expect(try await hq.app.recordings.status(site: link.siteID, id: box.recording.id) == nil)

                    // Bytes that are not the declared file: refused at completion, dropped, nothing stored.
                    _ = try await client.openRecordingUpload(
                        id: box.recording.id, RecordingUploadRequest(sizeBytes: size, sha256: sha), identity: identity,
                        deviceID: link.deviceID)
                    _ = try await client.sendRecordingPart(
                        id: box.recording.id, offset: 0, part: ByteBuffer(bytes: damaged), identity: identity,
                        deviceID: link.deviceID)
                    let mismatch = await code {
                        _ = try await client.completeRecordingUpload(
                            id: box.recording.id, identity: identity, deviceID: link.deviceID)
                    }
                    #expect(mismatch.0 == 422 && mismatch.1 == "hash_mismatch")
                    #expect(
                        try await hq.app.recordings.status(site: link.siteID, id: box.recording.id)?.receivedBytes == 0)
                    #expect(try await Self.stagedParts(hq) == 0)
                    #expect((try? FileManager.default.contentsOfDirectory(atPath: store))?.isEmpty ?? true)

                    // A part running past the declared size, an early completion, a bad id, a bad hash.
                    let tooLong = await code {
                        _ = try await client.sendRecordingPart(
                            id: box.recording.id, offset: 0, part: ByteBuffer(bytes: original + [0]),
                            identity: identity,
                            deviceID: link.deviceID)
                    }
                    #expect(tooLong.0 == 400)
                    let early = await code {
                        _ = try await client.completeRecordingUpload(
                            id: box.recording.id, identity: identity, deviceID: link.deviceID)
                    }
                    #expect(early.0 == 409 && early.1 == "incomplete")
                    let badID = await code {
                        _ = try await client.openRecordingUpload(
                            id: "..", RecordingUploadRequest(sizeBytes: 1, sha256: sha), identity: identity,
                            deviceID: link.deviceID)
                    }
                    #expect(badID.0 == 400)
                    let badHash = await code {
                        _ = try await client.openRecordingUpload(
                            id: box.recording.id, RecordingUploadRequest(sizeBytes: size, sha256: "ABC"),
                            identity: identity, deviceID: link.deviceID)
                    }
                    #expect(badHash.0 == 400)

                    // Unsigned: 401, and nothing staged.
                    var request = HTTPClientRequest(url: url + "/v1/recordings/\(box.recording.id)?offset=0")
                    request.method = .PUT
                    request.body = .bytes(ByteBuffer(bytes: original))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                    #expect(response.status.code == 401)
                    #expect(try await Self.stagedParts(hq) == 0)

                    // Another site's box: its upload of the same id is its own, site A's stays untouched.
                    let (otherIdentity, otherLink) = try await Auth.enrolledBox(hq, url: url, site: "B")
                    _ = try await client.openRecordingUpload(
                        id: box.recording.id, RecordingUploadRequest(sizeBytes: 3, sha256: sha),
                        identity: otherIdentity,
                        deviceID: otherLink.deviceID)
                    _ = try await client.sendRecordingPart(
                        id: box.recording.id, offset: 0, part: ByteBuffer(bytes: [1, 2, 3]), identity: otherIdentity,
                        deviceID: otherLink.deviceID)
                    #expect(
                        try await hq.app.recordings.status(site: link.siteID, id: box.recording.id)?.receivedBytes == 0)
                    #expect(
                        try await hq.app.recordings.status(site: otherLink.siteID, id: box.recording.id)?.receivedBytes
                            == 3
                    )

                    // The file repaired on the box: it goes up whole.
                    try Data(original).write(to: URL(fileURLWithPath: box.path))
                    let repaired = try await Self.uploader(box, client: client, identity: identity, link: link)
                        .uploadAll()
                    #expect(repaired.uploaded == 1)
                    #expect(try await hq.app.recordings.status(site: link.siteID, id: box.recording.id)?.stored == true)
                    await client.shutdown()
                }
            }
        }
    }
}
