import Foundation
public import Hummingbird

/// A refusal answered as `{"error": {"code": "...", "message": "..."}}` with its HTTP status: the one
/// error body of the box's API (`APIError`) and of headquarters (`HQError`). The code is stable and
/// machine-readable (`invalid_signature`, `bad_request`, ...); the message is for the caller and a
/// technician reading logs, and never holds secrets, tokens or personal data.
public struct JSONError: Error, HTTPResponseError, CustomStringConvertible, Sendable, Equatable {
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
        let body = ["error": ["code": code, "message": message]]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// 400 `bad_request`.
    public static func badRequest(_ message: String) -> JSONError {
        JSONError(.badRequest, code: "bad_request", message: message)
    }

    /// 401 with `code`.
    public static func unauthorized(_ code: String, _ message: String) -> JSONError {
        JSONError(.unauthorized, code: code, message: message)
    }

    /// 403 with `code`.
    public static func forbidden(_ code: String, _ message: String) -> JSONError {
        JSONError(.forbidden, code: code, message: message)
    }
}
