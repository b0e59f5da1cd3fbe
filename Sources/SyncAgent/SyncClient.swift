public import AsyncHTTPClient
import CompressNIO
import Crypto
public import Foundation
public import Logging
public import NIOCore
import NIOSSL
public import Sync
import Synchronization

/// The box's side of the sync API: enrolment, and signed, gzip-compressed uploads. Trusts the system's
/// CAs, or only the CA certificate stored at enrolment.
public final class SyncClient: Sendable {
    let http: HTTPClient
    let ownsClient: Bool
    let baseURL: String
    let logger: Logger
    /// Per request.
    let timeout: TimeAmount
    /// Headquarters' clock minus the box's (ms), learnt from `X-Edge-Server-Time` on every answer, so
    /// a box whose clock is off still signs requests headquarters finds fresh.
    let clockOffset = Mutex<Int64>(0)
    let localNow: @Sendable () -> Int64

    /// - Parameters:
    ///   - caCertificatePEM: a CA to trust instead of the system's (headquarters' own).
    ///   - localNow: the box's clock (Unix ms); tests set it off.
    public init(
        baseURL: String, caCertificatePEM: String? = nil, timeout: TimeAmount = .seconds(30), logger: Logger,
        localNow: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws(SyncError) {
        self.localNow = localNow
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.logger = logger
        self.timeout = timeout
        guard let pem = caCertificatePEM else {
            // Public CAs: the process-wide sync client, which never needs shutting down.
            http = Self.sharedHTTP
            ownsClient = false
            return
        }
        var configuration = Self.configuration()
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
            configuration.tlsConfiguration = tls
        } catch {
            throw SyncError(.storage, "the CA certificate for headquarters is not PEM: \(error)")
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        ownsClient = true
    }

    /// Connections to headquarters: a refused or unreachable one fails the request at once (after at
    /// most five seconds of connecting) instead of being retried until the request's deadline; the
    /// ``OutboxUploader``'s upstream and the worker's backoff decide when to try again.
    static func configuration() -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// The process-wide client for headquarters behind a public CA; it lives as long as the process.
    static let sharedHTTP = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration())

    /// Stops the client's connections (a client of its own, made for headquarters' CA); call it
    /// before letting go of the client.
    public func shutdown() async {
        if ownsClient { try? await http.shutdown() }
    }

    /// `POST /v1/enrol`: registers `identity`'s public key with a one-time token.
    public func enrol(token: String, identity: DeviceIdentity, name: String) async throws(SyncError)
        -> EnrolmentResponse
    {
        let body = try Self.encode(EnrolmentRequest(token: token, publicKey: identity.publicKeyBase64, name: name))
        var request = HTTPClientRequest(url: baseURL + "/v1/enrol")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await send(as: EnrolmentResponse.self) { request }
    }

    /// Headquarters' time as the box best knows it.
    public func serverNow() -> Int64 {
        localNow() + clockOffset.withLock { $0 }
    }

    /// `POST /v1/sync/upload`: one batch, gzip-compressed, signed by the device.
    public func upload(_ batch: UploadBatch, identity: DeviceIdentity, deviceID: String) async throws(SyncError)
        -> UploadResult
    {
        try await upload(json: try Self.encode(batch), identity: identity, deviceID: deviceID)
    }

    /// `POST /v1/sync/upload` of a batch already encoded as JSON (with sorted keys).
    public func upload(json bytes: [UInt8], identity: DeviceIdentity, deviceID: String) async throws(SyncError)
        -> UploadResult
    {
        var json = ByteBuffer(bytes: bytes)
        let body: ByteBuffer
        do {
            body = try json.compress(with: .gzip())
        } catch {
            throw SyncError(.storage, "cannot compress the batch: \(error)")
        }
        let signer = RequestSigner(identity: identity, deviceID: deviceID) { [self] in serverNow() }
        return try await send(as: UploadResult.self) {
            var request = HTTPClientRequest(url: baseURL + "/v1/sync/upload")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Content-Encoding", value: "gzip")
            signer.sign(&request, target: "/v1/sync/upload", body: body)
            request.body = .bytes(body)
            return request
        }
    }

    /// `GET /v1/sync/changes`: the next page of headquarters' changes after `cursor`, signed.
    public func download(cursor: String?, limit: Int, identity: DeviceIdentity, deviceID: String)
        async throws(SyncError)
        -> DownloadPage
    {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        var target = "/v1/sync/changes?limit=\(limit)"
        if let cursor { target += "&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: allowed) ?? cursor)" }
        let signer = RequestSigner(identity: identity, deviceID: deviceID) { [self] in serverNow() }
        return try await send(as: DownloadPage.self) {
            var request = HTTPClientRequest(url: baseURL + target)
            request.method = .GET
            signer.sign(&request, target: target, body: ByteBuffer())
            return request
        }
    }

    /// `GET /v1/device`: a signed no-op that proves headquarters is reachable and accepts the
    /// device's key, answering who the box is.
    public func device(identity: DeviceIdentity, deviceID: String) async throws(SyncError) -> EnrolmentResponse {
        let target = "/v1/device"
        let signer = RequestSigner(identity: identity, deviceID: deviceID) { [self] in serverNow() }
        return try await send(as: EnrolmentResponse.self) {
            var request = HTTPClientRequest(url: baseURL + target)
            request.method = .GET
            signer.sign(&request, target: target, body: ByteBuffer())
            return request
        }
    }

    /// `PUT /v1/device/twilio`, signed: hands headquarters the site's Twilio account for the fallback
    /// URL it answers while this box cannot; returns that URL.
    public func registerTwilio(_ registration: TwilioRegistrationRequest, identity: DeviceIdentity, deviceID: String)
        async throws(SyncError) -> TwilioRegistrationResponse
    {
        let target = "/v1/device/twilio"
        let body: ByteBuffer
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            body = ByteBuffer(bytes: try encoder.encode(registration))
        } catch {
            throw SyncError(.storage, "cannot encode the Twilio registration: \(error)")
        }
        let signer = RequestSigner(identity: identity, deviceID: deviceID) { [self] in serverNow() }
        return try await send(as: TwilioRegistrationResponse.self) {
            var request = HTTPClientRequest(url: baseURL + target)
            request.method = .PUT
            request.headers.add(name: "Content-Type", value: "application/json")
            signer.sign(&request, target: target, body: body)
            request.body = .bytes(body)
            return request
        }
    }

    /// Sends the request `make` builds; when headquarters finds a signed request stale because the
    /// box's clock is off, learns its clock from the answer and sends a freshly signed one once more.
    func send<Answer: Decodable>(
        as: Answer.Type, make: () -> HTTPClientRequest
    ) async throws(SyncError) -> Answer {
        do {
            return try await sendOnce(make(), as: Answer.self)
        } catch let error where error.serverCode == "stale_request" {
            return try await sendOnce(make(), as: Answer.self)
        }
    }

    private func sendOnce<Answer: Decodable>(_ request: HTTPClientRequest, as: Answer.Type) async throws(SyncError)
        -> Answer
    {
        let response: HTTPClientResponse
        let body: ByteBuffer
        let sentAt = localNow()
        do {
            response = try await http.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        } catch {
            throw SyncError(.unreachable, "headquarters at \(baseURL) cannot be reached: \(Self.describe(error))")
        }
        if let text = response.headers.first(name: SignedRequest.serverTimeHeader), let serverTime = Int64(text) {
            // The middle of the round trip is the best guess of when headquarters read its clock.
            let local = (sentAt + localNow()) / 2
            clockOffset.withLock { $0 = serverTime - local }
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let detail = try? JSONDecoder().decode(SyncErrorBody.self, from: Data(body.readableBytesView))
            let message = detail.map { "\($0.error.code): \($0.error.message)" } ?? "status \(status)"
            throw SyncError(
                status >= 500 ? .serverError : .refused, "headquarters answered \(status) \(message)",
                status: status, serverCode: detail?.error.code)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView))
        } catch {
            throw SyncError(.badAnswer, "headquarters' answer is not the sync protocol (status \(status))")
        }
    }

    static func encode(_ value: some Encodable) throws(SyncError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return Array(try encoder.encode(value))
        } catch {
            throw SyncError(.storage, "cannot encode the request: \(error)")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "no answer in time"
            case .remoteConnectionClosed: return "the connection was closed"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}

/// Signs a request with the device's key (see ``SignedRequest``).
public struct RequestSigner: Sendable {
    let identity: DeviceIdentity
    let deviceID: String
    /// The box's clock (Unix ms).
    let now: @Sendable () -> Int64

    public init(
        identity: DeviceIdentity, deviceID: String,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.identity = identity
        self.deviceID = deviceID
        self.now = now
    }

    /// Adds the four signature headers for `body` sent to `target` (path and query).
    public func sign(_ request: inout HTTPClientRequest, target: String, body: ByteBuffer) {
        let timestamp = now()
        let nonce = UUID().uuidString.lowercased()
        let hash = SHA256.hash(data: Data(body.readableBytesView)).map { String(format: "%02x", $0) }.joined()
        let canonical = SignedRequest.canonical(
            method: request.method.rawValue, target: target, timestamp: timestamp, nonce: nonce, bodySHA256: hash)
        let signature = (try? identity.privateKey.signature(for: canonical)) ?? Data()
        request.headers.replaceOrAdd(name: SignedRequest.deviceHeader, value: deviceID)
        request.headers.replaceOrAdd(name: SignedRequest.timestampHeader, value: "\(timestamp)")
        request.headers.replaceOrAdd(name: SignedRequest.nonceHeader, value: nonce)
        request.headers.replaceOrAdd(name: SignedRequest.signatureHeader, value: signature.base64EncodedString())
    }
}
