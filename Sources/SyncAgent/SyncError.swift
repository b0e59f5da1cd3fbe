/// Why talking to headquarters failed, with a message a technician can act on. Never holds the
/// device key, a token or personal data.
public struct SyncError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// `edge-agent provision` has not been run (or `EDGE_HQ_URL` is not set).
        case notProvisioned = "not_provisioned"
        /// Headquarters could not be reached, or did not answer in time.
        case unreachable
        /// Headquarters answered 5xx.
        case serverError = "server_error"
        /// Headquarters refused the request (4xx): its code and message are in the description.
        case refused
        /// Headquarters answered something that is not the sync protocol.
        case badAnswer = "bad_answer"
        /// A file on the box (keys, the link to headquarters) could not be read or written.
        case storage
    }

    public let code: Code
    public let description: String
    /// The HTTP status, when headquarters answered.
    public let status: Int?
    /// Headquarters' error code, when it sent one.
    public let serverCode: String?

    public init(_ code: Code, _ description: String, status: Int? = nil, serverCode: String? = nil) {
        self.code = code
        self.description = description
        self.status = status
        self.serverCode = serverCode
    }

    /// Worth trying again later (the network, or headquarters itself); a refusal is not.
    public var isRetryable: Bool { code == .unreachable || code == .serverError || status == 429 }
}
