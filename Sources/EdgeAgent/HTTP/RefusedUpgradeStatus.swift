import HTTPTypes
import NIOCore
import NIOHTTP1

/// hummingbird-websocket answers every refused WebSocket upgrade with an empty `400 Bad Request`
/// (its `writeFailedUpgrade` is private and fixed). A route that refuses for a reason of its own (a
/// forged Twilio signature is a 403) adds this handler to the connection before it refuses. It lands
/// after NIO's response encoder and before the HTTP/1 handlers the library adds for the refusal, so the
/// refusal's head passes through it and goes out with `status` instead; nothing else is touched, and
/// the connection still closes. `MediaStreamUpgradeTests` checks the status on the wire, so a change
/// in the library's pipeline shows there.
///
/// Sendable: its one stored property is an immutable value, and NIO calls `write` on the channel's
/// event loop only.
final class RefusedUpgradeStatus: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let status: HTTPResponseStatus

    init(_ status: HTTPResponse.Status) {
        self.status = HTTPResponseStatus(statusCode: status.code, reasonPhrase: status.reasonPhrase)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var part = unwrapOutboundIn(data)
        if case .head(var head) = part, head.status == .badRequest {
            head.status = status
            part = .head(head)
        }
        context.write(wrapOutboundOut(part), promise: promise)
    }

    /// Makes the refusal of the upgrade on `channel` go out as `status`.
    static func answer(_ status: HTTPResponse.Status, on channel: any Channel) async throws {
        try await channel.pipeline.addHandler(RefusedUpgradeStatus(status), position: .last).get()
    }
}
