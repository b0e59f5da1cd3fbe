public import AsyncHTTPClient
public import Foundation
public import NIOCore
import NIOHTTP1

/// Recording files in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...), path-style, each request
/// signed with Signature Version 4. A file is one `PUT` streamed from the staged parts with its
/// length and verified SHA-256 declared, so the store checks the bytes and never shows half a file.
public struct S3RecordingStore: RecordingStore {
    /// `http(s)://host[:port]`, without the bucket.
    public let endpoint: URL
    public let bucket: String
    let signer: S3Signer
    let http: HTTPClient
    let timeout: TimeAmount

    public init(endpoint: URL, bucket: String, signer: S3Signer, http: HTTPClient, timeout: TimeAmount = .seconds(60)) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.signer = signer
        self.http = http
        self.timeout = timeout
    }

    var host: String {
        let host = endpoint.host ?? ""
        guard let port = endpoint.port else { return host }
        let defaultPort = endpoint.scheme == "https" ? 443 : 80
        return port == defaultPort ? host : "\(host):\(port)"
    }

    func request(_ method: HTTPMethod, key: String, payloadSHA256: String, extra: [String: String] = [:])
        -> HTTPClientRequest
    {
        let path = "/\(bucket)/\(key)"
        let base =
            endpoint.absoluteString.hasSuffix("/")
            ? String(endpoint.absoluteString.dropLast()) : endpoint.absoluteString
        let encodedPath = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { S3Signer.encode(String($0)) }.joined(separator: "/")
        var request = HTTPClientRequest(url: base + encodedPath)
        request.method = method
        let headers = signer.sign(
            method: method.rawValue, host: host, path: path, headers: extra, payloadSHA256: payloadSHA256, date: Date())
        request.headers.add(name: "Host", value: host)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        return request
    }

    public func put(key: String, size: Int, sha256: String, parts: RecordingParts) async throws -> String {
        var request = self.request(
            .PUT, key: key, payloadSHA256: sha256,
            extra: ["content-type": "application/octet-stream"])
        request.body = .stream(parts, length: .known(Int64(size)))
        let response = try await execute(request, doing: "store \(key)")
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return "s3://\(bucket)/\(key)"
    }

    public func get(key: String) async throws -> [UInt8]? {
        let response = try await execute(
            request(.GET, key: key, payloadSHA256: S3Signer.emptyPayloadSHA256), doing: "read \(key)",
            allowMissing: true)
        guard response.status != .notFound else { return nil }
        let body = try await response.body.collect(upTo: 1 << 30)
        return Array(body.readableBytesView)
    }

    public func delete(key: String) async throws {
        let response = try await execute(
            request(.DELETE, key: key, payloadSHA256: S3Signer.emptyPayloadSHA256), doing: "delete \(key)",
            allowMissing: true)
        _ = try? await response.body.collect(upTo: 64 * 1024)
    }

    private func execute(_ request: HTTPClientRequest, doing: String, allowMissing: Bool = false) async throws
        -> HTTPClientResponse
    {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw RecordingStoreError("S3 at \(endpoint.absoluteString) cannot be reached to \(doing): \(error)")
        }
        if (200..<300).contains(response.status.code) || (allowMissing && response.status == .notFound) {
            return response
        }
        let body = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
        // S3 errors are XML: <Code> says which (SignatureDoesNotMatch, NoSuchBucket, AccessDenied, ...).
        let code = body.range(of: "<Code>").flatMap { start in
            body.range(of: "</Code>").map { String(body[start.upperBound..<$0.lowerBound]) }
        }
        throw RecordingStoreError(
            "S3 refused to \(doing) in bucket \(bucket): \(response.status.code) \(code ?? "no error code")"
                + " (check EDGE_HQ_S3_BUCKET, the region and the access key)")
    }
}
