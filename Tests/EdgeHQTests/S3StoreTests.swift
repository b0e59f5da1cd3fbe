import AsyncHTTPClient
import CallRecording
import EdgeHQ
import Foundation
import LocalStore
import NIOCore
import Sync
import TestSupport
import Testing

@testable import SyncAgent

/// Signature Version 4 against published vectors, and the S3 store against a local S3-compatible
/// server that checks every signature.
@Suite("Headquarters: the S3 recording store", .serialized)
struct S3StoreTests {
    typealias Auth = EnrolmentAndAuthenticationTests
    typealias Uploads = RecordingUploadTests

    static let exampleDate = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

    @Test("Signature Version 4 matches AWS's published GET example and botocore's signature of a PUT")
    func signatureVectors() {
        let signer = S3Signer(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1")
        // AWS S3 documentation, "Signature Calculations for the Authorization Header", GET Object.
        let get = signer.sign(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
            headers: ["Range": "bytes=0-9"], payloadSHA256: S3Signer.emptyPayloadSHA256, date: Self.exampleDate)
        #expect(
            get["Authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(get["x-amz-date"] == "20130524T000000Z")
        // botocore 1.x (S3SigV4Auth) on the same key: a path-style PUT to a host with a port, a key with
        // a space, another region.
        let put = S3Signer(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "eu-west-1"
        ).sign(
            method: "PUT", host: "127.0.0.1:9000", path: "/bucket/sites/s-1/recordings/r 1.sealed",
            payloadSHA256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", date: Self.exampleDate)
        #expect(
            put["Authorization"]
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/eu-west-1/s3/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=5ca0314b0610a6f6962e813a8f03abb80b7854cf43c160fb596d16799393649d")
    }

    @Test(
        "recordings go to an S3-compatible store (every signature checked): stored, read back, deleted on erasure; a wrong secret is refused and nothing counts as stored"
    )
    func s3EndToEnd() async throws {
        guard S3TestServer.isAvailable else {
            // The test command installs moto; only a bare `swift test` outside CI gets here.
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "moto is not installed at \(TestPython.path)")
            return
        }
        let server = try await S3TestServer()
        defer { server.stop() }
        let box = try await Uploads.box(seconds: 6)
        defer { try? FileManager.default.removeItem(atPath: box.folder) }
        let size = try #require(box.recording.sizeBytes)
        let original = box.fileBytes

        // A wrong secret: the store refuses, headquarters answers 502, the box keeps the recording.
        var wrong = HQConfiguration.S3Location(
            endpoint: server.endpoint, bucket: S3TestServer.bucket, region: "us-east-1",
            accessKeyID: server.accessKeyID, secretAccessKey: "not-the-secret")
        try await HQHarness.with(recordingStorage: .s3(wrong)) { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let client = try SyncClient(baseURL: url, logger: Auth.logger)
                await #expect {
                    _ = try await Uploads.uploader(box, client: client, identity: identity, link: link).uploadAll()
                } throws: { ($0 as? SyncError)?.serverCode == "storage_failed" }
                #expect(try await hq.app.recordings.status(site: link.siteID, id: box.recording.id)?.stored == false)
                #expect(try await RecordingVault(database: box.database).awaitingUpload().count == 1)
                await client.shutdown()
            }
        }

        wrong.secretAccessKey = server.secretAccessKey
        let location = wrong
        try await HQHarness.with(recordingStorage: .s3(location)) { hq in
            try await hq.serve { url in
                let (identity, link) = try await Auth.enrolledBox(hq, url: url, site: "A")
                let client = try SyncClient(baseURL: url, logger: Auth.logger)
                try await Uploads.drainOutbox(box, client: client, identity: identity, link: link)
                let report = try await Uploads.uploader(box, client: client, identity: identity, link: link)
                    .uploadAll()
                #expect(report.uploaded == 1 && report.bytesSent == size)

                let store = S3RecordingStore(
                    endpoint: location.endpoint, bucket: location.bucket,
                    signer: S3Signer(
                        accessKeyID: location.accessKeyID, secretAccessKey: location.secretAccessKey,
                        region: "us-east-1"),
                    http: HTTPClient.shared)
                let key = RecordingUploads.key(site: link.siteID, recording: box.recording.id)
                let stored = try #require(try await store.get(key: key))
                #expect(stored == original)
                #expect(try SealedStreamReader.decrypt(stored, identity: box.owner).complete)
                #expect(
                    try await Self.location(hq, site: link.siteID, id: box.recording.id)
                        == "s3://edge-recordings/\(key)")

                // The caller's erasure deletes the object.
                _ = try await PrivacyRequests(database: box.database).erase(phone: Uploads.phone, actor: "test") { _ in
                }
                try await Uploads.drainOutbox(box, client: client, identity: identity, link: link)
                #expect(try await store.get(key: key) == nil)
                await client.shutdown()
            }
        }
        try box.database.close()
    }

    static func location(_ hq: HQHarness, site: String, id: String) async throws -> String? {
        for try await location in try await hq.database.client.query(
            "SELECT location FROM recording_uploads WHERE site_id = \(site) AND recording_id = \(id)"
        ).decode(String?.self) {
            return location
        }
        return nil
    }
}
