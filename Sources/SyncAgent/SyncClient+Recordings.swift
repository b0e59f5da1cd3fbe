import AsyncHTTPClient
import Foundation
public import NIOCore
public import Sync

/// The recording-upload protocol (``RecordingUploadRequest``), every request signed.
extension SyncClient {
    /// `POST /v1/recordings/{id}`: opens (or finds) the upload; where headquarters stands.
    public func openRecordingUpload(
        id: String, _ upload: RecordingUploadRequest, identity: DeviceIdentity, deviceID: String
    ) async throws(SyncError) -> RecordingUploadStatus {
        let body = ByteBuffer(bytes: try Self.encode(upload))
        return try await signed(.post, "/v1/recordings/\(id)", body: body, identity: identity, deviceID: deviceID)
    }

    /// `PUT /v1/recordings/{id}?offset=N`: the part of the file that starts at `offset`.
    public func sendRecordingPart(
        id: String, offset: Int, part: ByteBuffer, identity: DeviceIdentity, deviceID: String
    ) async throws(SyncError) -> RecordingUploadStatus {
        try await signed(
            .put, "/v1/recordings/\(id)?offset=\(offset)", body: part, contentType: "application/octet-stream",
            identity: identity, deviceID: deviceID)
    }

    /// `POST /v1/recordings/{id}/complete`: headquarters verifies the whole file and stores it.
    public func completeRecordingUpload(id: String, identity: DeviceIdentity, deviceID: String) async throws(SyncError)
        -> RecordingUploadStatus
    {
        try await signed(
            .post, "/v1/recordings/\(id)/complete", body: ByteBuffer(), identity: identity, deviceID: deviceID)
    }

    enum Verb { case post, put }

    private func signed<Answer: Decodable>(
        _ method: Verb, _ target: String, body: ByteBuffer, contentType: String = "application/json",
        identity: DeviceIdentity, deviceID: String
    ) async throws(SyncError) -> Answer {
        let signer = RequestSigner(identity: identity, deviceID: deviceID) { [self] in serverNow() }
        return try await send(as: Answer.self) {
            var request = HTTPClientRequest(url: baseURL + target)
            request.method = method == .post ? .POST : .PUT
            request.headers.add(name: "Content-Type", value: contentType)
            signer.sign(&request, target: target, body: body)
            request.body = .bytes(body)
            return request
        }
    }
}
