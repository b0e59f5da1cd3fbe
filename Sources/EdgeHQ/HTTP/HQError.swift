import Foundation
public import Hummingbird
import Sync

/// A refusal answered as `{"error": {"code": "...", "message": "..."}}` with its status. Messages
/// say what was wrong for a technician; they never hold keys, tokens or personal data.
public struct HQError: Error, HTTPResponseError, CustomStringConvertible, Sendable, Equatable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = (try? JSONEncoder().encode(SyncErrorBody(code: code, message: message))) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badRequest(_ message: String) -> HQError { HQError(.badRequest, code: "bad_request", message: message) }
    static func unauthorized(_ code: String, _ message: String) -> HQError {
        HQError(.unauthorized, code: code, message: message)
    }
    static func forbidden(_ code: String, _ message: String) -> HQError {
        HQError(.forbidden, code: code, message: message)
    }
}
