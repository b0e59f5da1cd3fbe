import Dispatch
public import HTTPTypes
public import Hummingbird
import Logging

/// Gives every request an id (the caller's `X-Request-Id` when it is a sane token, otherwise a new
/// one), puts it in the request's logger as `request.id` so every line logged while handling it
/// carries it, echoes it in the response, and logs one line per request.
///
/// It also turns any error into the JSON error body of the interface spec, in one place: a known
/// ``APIError`` or Hummingbird `HTTPError` keeps its status, anything else becomes a 500 whose
/// details stay in the log.
public struct RequestLoggingMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.saneID) ?? context.id
        context.logger[metadataKey: "request.id"] = .string(requestID)
        let start = DispatchTime.now().uptimeNanoseconds
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            let status = error.status
            response = try APIError(status, code: Self.code(for: status), message: status.reasonPhrase)
                .response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            response = try APIError(
                .internalServerError, code: "internal", message: "internal error; see the agent's log"
            )
            .response(from: request, context: context)
        }
        response.headers[.requestID] = requestID
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
        context.logger.log(
            level: response.status.code >= 500 ? .error : (request.uri.path == "/healthz" ? .debug : .info),
            "request",
            metadata: [
                "http.method": .string(request.method.rawValue),
                "http.route": .string(context.endpointPath ?? "unmatched"),
                "http.status": .stringConvertible(response.status.code),
                "http.duration_ms": .stringConvertible((milliseconds * 100).rounded() / 100),
            ])
        return response
    }

    /// Accepts 1 to 64 letters, digits, `-`, `_` and `.`; anything else could forge log lines.
    static func saneID(_ value: String) -> String? {
        guard (1...64).contains(value.count),
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else { return nil }
        return value
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 413: "payload_too_large"
        case 400..<500: "bad_request"
        default: "internal"
        }
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`, the request correlation header.
    public static let requestID = Self("X-Request-Id")!
}
