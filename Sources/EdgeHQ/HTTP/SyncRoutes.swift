import CompressNIO
import Crypto
import Foundation
public import Hummingbird
import Logging
import Sync

/// The sync API: `POST /v1/enrol` (a one-time token, unsigned) and `POST /v1/sync/upload` (signed by
/// the box). Bodies are bounded before they are read, gzip bodies are bounded again once
/// decompressed, and every refusal is a 4xx with a JSON error that applies nothing.
public struct SyncRoutes: Sendable {
    let directory: SiteDirectory
    let authenticator: RequestAuthenticator
    let ingest: BatchIngest
    let feed: ChangeFeed
    let metrics: HQMetrics
    /// Told to delete the stored files of recordings a batch erased.
    var recordings: RecordingUploads?
    let maximumBodyBytes: Int
    let maximumDecompressedBytes: Int

    public init(
        directory: SiteDirectory, authenticator: RequestAuthenticator, ingest: BatchIngest, feed: ChangeFeed,
        metrics: HQMetrics, maximumBodyBytes: Int, maximumDecompressedBytes: Int
    ) {
        self.directory = directory
        self.authenticator = authenticator
        self.ingest = ingest
        self.feed = feed
        self.metrics = metrics
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumDecompressedBytes = maximumDecompressedBytes
    }

    public func register(on router: Router<some RequestContext>) {
        router.post("/v1/enrol") { request, context in
            try await enrol(request, context: context)
        }
        router.post("/v1/sync/upload") { request, context in
            try await upload(request, context: context)
        }
        router.get("/v1/sync/changes") { request, context in
            try await changes(request, context: context)
        }
        router.get("/v1/device") { request, context in
            try await device(request, context: context)
        }
    }

    /// A signed no-op: who the signing box is, for `edge-agent doctor` (its key is accepted, and the
    /// site it serves).
    func device(_ request: Request, context: some RequestContext) async throws -> Response {
        let device = try await authenticator.device(
            signing: request, body: ByteBuffer(), metrics: metrics, logger: context.logger)
        let siteName = try await directory.site(device.siteID)?.name ?? device.siteID
        return try Self.json(
            EnrolmentResponse(deviceID: device.id, siteID: device.siteID, siteName: siteName), status: .ok)
    }

    /// A page of headquarters' changes for the signing box's site, after its cursor.
    func changes(_ request: Request, context: some RequestContext) async throws -> Response {
        let device = try await authenticator.device(
            signing: request, body: ByteBuffer(), metrics: metrics, logger: context.logger)
        guard let cursor = DownloadCursor.parse(request.uri.queryParameters["cursor"].map(String.init)) else {
            throw HQError(
                .badRequest, code: "bad_cursor",
                message: "the cursor does not parse; send the last next_cursor, or none")
        }
        var limit = 500
        if let text = request.uri.queryParameters["limit"] {
            guard let value = Int(text), (1...5000).contains(value) else {
                throw HQError.badRequest("limit must be from 1 to 5000")
            }
            limit = value
        }
        let page = try await feed.page(site: device.siteID, after: cursor, limit: limit)
        return try Self.json(page, status: .ok)
    }

    func enrol(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await collect(request, limit: 16 * 1024)
        let enrolment: EnrolmentRequest
        do {
            enrolment = try JSONDecoder().decode(EnrolmentRequest.self, from: Data(body.readableBytesView))
        } catch {
            throw HQError.badRequest("the enrolment is not {\"token\", \"public_key\", \"name\"} JSON")
        }
        guard let key = Data(base64Encoded: enrolment.publicKey) else {
            throw HQError.badRequest("public_key is not base64")
        }
        do {
            let (device, site) = try await directory.enrol(
                token: enrolment.token, publicKey: Array(key), name: enrolment.name)
            context.logger.info(
                "box enrolled", metadata: ["device.id": .string(device.id), "site.id": .string(site.id)])
            return try Self.json(
                EnrolmentResponse(deviceID: device.id, siteID: site.id, siteName: site.name), status: .created)
        } catch let error as SiteDirectory.DirectoryError {
            switch error.code {
            case .invalidToken: throw HQError.unauthorized(error.code.rawValue, error.description)
            case .keyInUse: throw HQError(.conflict, code: error.code.rawValue, message: error.description)
            default: throw HQError.badRequest(error.description)
            }
        }
    }

    func upload(_ request: Request, context: some RequestContext) async throws -> Response {
        let raw = try await collect(request, limit: maximumBodyBytes)
        let device = try await authenticator.device(
            signing: request, body: raw, metrics: metrics, logger: context.logger)
        var body = raw
        if let encoding = request.headers[.contentEncoding] {
            guard encoding.lowercased() == "gzip" else {
                throw HQError(
                    .unsupportedMediaType, code: "unsupported_encoding", message: "bodies are JSON or gzip JSON")
            }
            do {
                body = try body.decompress(with: .gzip(), maxSize: maximumDecompressedBytes)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw HQError(
                    .contentTooLarge, code: "payload_too_large",
                    message: "the batch is larger than \(maximumDecompressedBytes / 1_048_576) MiB once decompressed")
            } catch {
                throw HQError.badRequest("the body is not valid gzip")
            }
        }
        let batch: UploadBatch
        do {
            batch = try JSONDecoder().decode(UploadBatch.self, from: Data(body.readableBytesView))
        } catch {
            throw HQError.badRequest("the batch is malformed: \(Self.describe(error))")
        }
        // Boxes write batches with sorted keys, so the same batch is the same bytes.
        let hash = SHA256.hash(data: Data(body.readableBytesView)).map { String(format: "%02x", $0) }.joined()
        let result = try await ingest.ingest(
            batch, json: String(decoding: body.readableBytesView, as: UTF8.self), bodySHA256: hash, device: device)
        for row in result.rows { metrics.uploadedRows(row.outcome).increment() }
        if let recordings, batch.changes.contains(where: { $0.table == .recordings && $0.operation != .upsert }) {
            // Best effort now; the housekeeping service retries what the store did not take.
            _ = try? await recordings.deleteErased()
        }
        context.logger.info(
            "batch applied",
            metadata: [
                "device.id": .string(device.id), "batch.rows": .stringConvertible(result.rows.count),
            ])
        return try Self.json(result, status: .ok)
    }

    private func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw HQError(
                .contentTooLarge, code: "payload_too_large", message: "the body is larger than \(limit) bytes")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let data = try JSONEncoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A decoding error in a sentence: where, and what.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "the body" : String(path.drop { $0 == "." })
        }
        switch error {
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "\(path(context)): \(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "not a batch"
        }
    }
}
