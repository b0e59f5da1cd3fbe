public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore

/// The request context of the agent's router: Hummingbird's WebSocket request context plus the
/// connection the request came on, which the Media Stream route needs to answer a refused upgrade
/// with the status it decided (see ``RefusedUpgradeStatus``).
public struct AgentRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The connection the request came on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}
