import Crypto
public import Foundation

/// AWS Signature Version 4 for S3 requests, with the payload's SHA-256 in `x-amz-content-sha256`
/// (so the store can check what it received). Path-style addressing; checked against AWS's published
/// example and against botocore's signer.
public struct S3Signer: Sendable {
    public let accessKeyID: String
    let secretAccessKey: String
    public let region: String
    let service = "s3"

    public init(accessKeyID: String, secretAccessKey: String, region: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
    }

    /// The headers to send: `headers` plus `x-amz-date`, `x-amz-content-sha256` and `Authorization`.
    /// `path` is the raw (unencoded) path; `host` includes a non-default port.
    public func sign(
        method: String, host: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
        payloadSHA256: String, date: Date
    ) -> [String: String] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = formatter.string(from: date)
        let day = String(amzDate.prefix(8))

        var signed = headers
        signed["host"] = host
        signed["x-amz-date"] = amzDate
        signed["x-amz-content-sha256"] = payloadSHA256
        let canonicalHeaders = signed.map { ($0.key.lowercased(), $0.value.trimmingCharacters(in: .whitespaces)) }
            .sorted { $0.0 < $1.0 }
        let signedHeaderNames = canonicalHeaders.map(\.0).joined(separator: ";")
        let canonicalQuery = query.map { (Self.encode($0.key), Self.encode($0.value)) }.sorted { $0 < $1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonicalRequest = [
            method,
            path.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }
                .joined(separator: "/"),
            canonicalQuery,
            canonicalHeaders.map { "\($0.0):\($0.1)\n" }.joined(),
            signedHeaderNames,
            payloadSHA256,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Data(("AWS4" + secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        var result = headers
        result["x-amz-date"] = amzDate
        result["x-amz-content-sha256"] = payloadSHA256
        result["Authorization"] =
            "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaderNames), Signature=\(signature)"
        return result
    }

    /// The SHA-256 of no bytes, for requests without a body.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// RFC 3986 encoding as SigV4 wants it: everything but letters, digits and `-._~`.
    static func encode(_ text: String) -> String {
        var allowed = CharacterSet()
        allowed.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
