import Hummingbird
import Logging
import Synchronization

/// Answers every request within a time limit (`EDGE_HQ_REQUEST_TIMEOUT_SECONDS`, 30 s by default,
/// the box's own timeout): a handler that has not answered by then is cancelled and the request is
/// answered 503 `request_timeout`, so a box retries it rather than waiting on a handler that may
/// never finish. The handler runs in a task of its own for this: a PostgreSQL statement lost on a
/// closed connection does not honour cancellation (see ``HQConnection``), and the answer must not
/// wait for it. Handlers still running are counted in ``RequestsInFlight``.
struct DeadlineResponder<Base: HTTPResponder>: HTTPResponder where Base.Context: RequestContext & Sendable {
    let base: Base
    let limit: Duration
    let inFlight: RequestsInFlight

    func respond(to request: Request, context: Base.Context) async throws -> Response {
        let base = self.base
        let limit = self.limit
        let inFlight = self.inFlight
        let logger = context.logger
        let path = request.uri.path
        inFlight.begin()
        do {
            return try await raceDeadline(
                limit, late: { RequestDeadlinePassed() },
                whenLate: {
                    logger.error(
                        "a request was not answered within the time limit; answered 503 and its handler cancelled",
                        metadata: ["http.path": "\(path)", "limit": "\(limit)"])
                },
                // Not started when the client was gone before the handler began.
                whenSkipped: { inFlight.end() },
                operation: {
                    defer { inFlight.end() }
                    return try await base.respond(to: request, context: context)
                })
        } catch is RequestDeadlinePassed {
            var response = try HQError(
                .serviceUnavailable, code: "request_timeout",
                message: "headquarters did not finish this request within \(limit); try again"
            ).response(from: request, context: context)
            // The handler may have left the request's body half read: the connection is not reused.
            response.headers[.connection] = "close"
            return response
        }
    }
}

/// The time limit of a request passed before its handler answered.
struct RequestDeadlinePassed: Error {}

/// How many request handlers are running, those answered 503 at their deadline but not yet finished
/// among them (`edge_hq_requests_in_flight`). Zero when headquarters is idle: a count that stays up
/// is a stuck handler.
public final class RequestsInFlight: Sendable {
    private let count = Mutex(0)
    private let gauge: (@Sendable (Int) -> Void)?

    /// `gauge` is told each new count, in order.
    init(gauge: (@Sendable (Int) -> Void)? = nil) { self.gauge = gauge }

    /// The handlers running now.
    public var current: Int { count.withLock { $0 } }

    func begin() { change(by: 1) }

    func end() { change(by: -1) }

    private func change(by delta: Int) {
        count.withLock { count in
            count += delta
            gauge?(count)
        }
    }
}
