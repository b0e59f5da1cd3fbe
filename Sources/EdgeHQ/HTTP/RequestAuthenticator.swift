import Crypto
public import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import PostgresNIO
import Sync

/// Checks a box's signed request (``SignedRequest``): a known, unrevoked device; a timestamp within
/// the freshness window; a nonce not seen before from that device; an Ed25519 signature by the
/// device's key over the method, target, timestamp, nonce and body hash. Each failure has its own
/// code, and every one is a 401 (a revoked device a 403).
public struct RequestAuthenticator: Sendable {
    let directory: SiteDirectory
    let database: HQDatabase
    let logger: Logger
    /// Headquarters' clock (Unix ms); tests move it.
    let now: @Sendable () -> Int64

    public init(
        directory: SiteDirectory, database: HQDatabase, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.directory = directory
        self.database = database
        self.logger = logger
        self.now = now
    }

    /// The device that signed `request` with `body` (the bytes exactly as sent).
    public func authenticate(_ request: Request, body: ByteBuffer) async throws -> SiteDirectory.Device {
        let headers = request.headers
        guard let deviceID = headers[HTTPField.Name(SignedRequest.deviceHeader)!],
            let timestampText = headers[HTTPField.Name(SignedRequest.timestampHeader)!],
            let nonce = headers[HTTPField.Name(SignedRequest.nonceHeader)!],
            let signatureText = headers[HTTPField.Name(SignedRequest.signatureHeader)!]
        else {
            throw HQError.unauthorized("unsigned", "the request is not signed by an enrolled box")
        }
        guard let timestamp = Int64(timestampText) else {
            throw HQError.unauthorized("bad_timestamp", "\(SignedRequest.timestampHeader) is not Unix milliseconds")
        }
        guard !nonce.isEmpty, nonce.count <= SignedRequest.maximumNonceLength,
            nonce.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw HQError.unauthorized(
                "bad_nonce", "\(SignedRequest.nonceHeader) must be 1 to 64 letters, digits, - or _")
        }
        let skew = timestamp - now()
        guard abs(skew) <= SignedRequest.freshness else {
            throw HQError.unauthorized(
                "stale_request",
                "the request's timestamp is \(skew / 1000) s from headquarters' clock (at most \(SignedRequest.freshness / 1000) s); check the box's clock (NTP)"
            )
        }
        guard let device = try await directory.device(id: deviceID) else {
            throw HQError.unauthorized("unknown_device", "no box is enrolled with this device id")
        }
        guard device.revokedAt == nil else {
            throw HQError.forbidden("revoked_device", "this box's key was revoked at headquarters; enrol it again")
        }
        guard let signature = Data(base64Encoded: signatureText),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: device.publicKey)
        else {
            throw HQError.unauthorized("bad_signature", "the signature does not verify")
        }
        let bodyHash = SHA256.hash(data: Data(body.readableBytesView)).map { String(format: "%02x", $0) }.joined()
        let signed = SignedRequest.canonical(
            method: request.method.rawValue, target: request.uri.description, timestamp: timestamp, nonce: nonce,
            bodySHA256: bodyHash)
        guard key.isValidSignature(signature, for: signed) else {
            throw HQError.unauthorized("bad_signature", "the signature does not verify")
        }
        // The nonce is recorded last, so a forged request cannot burn a real one.
        var fresh = false
        for try await _ in try await database.query(
            """
            INSERT INTO request_nonces (device_id, nonce) VALUES (\(deviceID), \(nonce))
            ON CONFLICT DO NOTHING RETURNING nonce
            """, logger: logger
        ).decode(String.self) {
            fresh = true
        }
        guard fresh else {
            throw HQError.unauthorized("replayed_request", "this request was seen before")
        }
        try await database.query(
            "UPDATE devices SET last_seen_at = now() WHERE id = \(deviceID)", logger: logger)
        return device
    }
}

extension RequestAuthenticator {
    /// ``authenticate(_:body:)`` for a route: a refusal is counted in
    /// `edge_hq_authentication_failures_total{code}` and logged by its code alone (never the headers)
    /// before it is thrown on to the client.
    func device(
        signing request: Request, body: ByteBuffer, metrics: HQMetrics, logger: Logger
    ) async throws -> SiteDirectory.Device {
        do {
            return try await authenticate(request, body: body)
        } catch let error as HQError {
            metrics.authenticationFailures(error.code).increment()
            logger.warning("signed request refused", metadata: ["error.code": .string(error.code)])
            throw error
        }
    }
}
