/// How a box signs each request to headquarters with its own Ed25519 key, and how headquarters
/// checks it.
///
/// The box sends four headers: ``deviceHeader`` (its device id from enrolment), ``timestampHeader``
/// (Unix milliseconds), ``nonceHeader`` (random, at most 64 characters) and ``signatureHeader``: the
/// base64 Ed25519 signature over ``canonical(method:target:timestamp:nonce:bodySHA256:)``. Headquarters
/// refuses a request whose timestamp is more than ``freshness`` away from its own clock, and a nonce it
/// has already seen from that device within that window, so a captured request cannot be replayed;
/// the body hash means a body changed on the way does not verify.
public enum SignedRequest {
    public static let deviceHeader = "X-Edge-Device"
    public static let timestampHeader = "X-Edge-Timestamp"
    public static let nonceHeader = "X-Edge-Nonce"
    public static let signatureHeader = "X-Edge-Signature"
    /// On every answer from headquarters: its clock (Unix ms), so a box whose clock is off can sign
    /// with headquarters' time.
    public static let serverTimeHeader = "X-Edge-Server-Time"
    /// How far (milliseconds) a request's timestamp may be from headquarters' clock, either way.
    public static let freshness: Int64 = 300_000
    /// The longest nonce accepted.
    public static let maximumNonceLength = 64

    /// The bytes signed: `EDGE-SYNC-1`, the method, the request target (path and query as sent), the
    /// timestamp, the nonce and the lowercase hex SHA-256 of the body as sent (compressed, if it is),
    /// each on its own line.
    public static func canonical(
        method: String, target: String, timestamp: Int64, nonce: String, bodySHA256: String
    ) -> [UInt8] {
        Array("EDGE-SYNC-1\n\(method.uppercased())\n\(target)\n\(timestamp)\n\(nonce)\n\(bodySHA256)".utf8)
    }
}

/// The JSON error body of every refusal from headquarters: `{"error": {"code": "...", "message": "..."}}`.
public struct SyncErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
    }

    public var error: Detail

    public init(code: String, message: String) {
        error = Detail(code: code, message: message)
    }
}
