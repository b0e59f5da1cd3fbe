import HTTPTypes
public import Hummingbird
import Sync

/// Adds headquarters' clock (``SignedRequest/serverTimeHeader``) to every answer, refusals included,
/// so a box whose clock is off learns the offset from the refusal and signs fresh requests.
public struct ServerTimeMiddleware<Context: RequestContext>: RouterMiddleware {
    let now: @Sendable () -> Int64

    public init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[HTTPField.Name(SignedRequest.serverTimeHeader)!] = "\(now())"
        return response
    }
}
