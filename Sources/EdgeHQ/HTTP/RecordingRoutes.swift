import Foundation
public import Hummingbird
import Logging
import Sync

/// The recording-upload API (see ``RecordingUploadRequest``), every request signed by the box; a box
/// uploads only under its own site.
public struct RecordingRoutes: Sendable {
    let authenticator: RequestAuthenticator
    let uploads: RecordingUploads
    let metrics: HQMetrics

    public init(authenticator: RequestAuthenticator, uploads: RecordingUploads, metrics: HQMetrics) {
        self.authenticator = authenticator
        self.uploads = uploads
        self.metrics = metrics
    }

    public func register(on router: Router<some RequestContext>) {
        router.post("/v1/recordings/:id") { request, context in
            let (device, id, body) = try await authenticated(request, context: context, limit: 4096)
            let upload: RecordingUploadRequest
            do {
                upload = try JSONDecoder().decode(RecordingUploadRequest.self, from: Data(body.readableBytesView))
            } catch {
                throw HQError.badRequest("the body is not {\"size_bytes\", \"sha256\"} JSON")
            }
            return try SyncRoutes.json(try await uploads.open(site: device.siteID, id: id, upload), status: .ok)
        }
        router.put("/v1/recordings/:id") { request, context in
            let (device, id, body) = try await authenticated(
                request, context: context, limit: RecordingUploadRequest.maximumPartBytes)
            guard let text = request.uri.queryParameters["offset"], let offset = Int(text), offset >= 0 else {
                throw HQError.badRequest("offset must be the byte offset of the part, 0 or more")
            }
            let status = try await uploads.append(site: device.siteID, id: id, offset: offset, part: body)
            metrics.recordingBytes.increment(by: Int64(body.readableBytes))
            return try SyncRoutes.json(status, status: .ok)
        }
        router.post("/v1/recordings/:id/complete") { request, context in
            let (device, id, _) = try await authenticated(request, context: context, limit: 0)
            let status = try await uploads.complete(site: device.siteID, id: id)
            context.logger.info(
                "recording stored", metadata: ["site.id": .string(device.siteID), "recording.id": .string(id)])
            return try SyncRoutes.json(status, status: .ok)
        }
    }

    /// The signing device, the recording id from the path, and the body (at most `limit` bytes).
    private func authenticated(_ request: Request, context: some RequestContext, limit: Int) async throws -> (
        SiteDirectory.Device, String, ByteBuffer
    ) {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw HQError(
                .contentTooLarge, code: "payload_too_large", message: "the body is larger than \(limit) bytes")
        }
        let device = try await authenticator.device(
            signing: request, body: body, metrics: metrics, logger: context.logger)
        guard let id = context.parameters.get("id"), RecordingUploads.isValidID(id) else {
            throw HQError.badRequest("the recording id must be 1 to 64 letters, digits, - or _")
        }
        return (device, id, body)
    }
}
