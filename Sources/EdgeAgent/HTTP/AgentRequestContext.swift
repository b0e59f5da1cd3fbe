public import Hummingbird
public import HummingbirdWebSocket
public import LocalStore
public import NIOCore

/// The request context of the agent's router: Hummingbird's WebSocket request context plus the
/// connection the request came on, which the Media Stream route needs to answer a refused upgrade
/// with the status it decided (see ``RefusedUpgradeStatus``).
public struct AgentRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The connection the request came on.
    public let channel: any Channel
    /// Who is using the admin API or the staff page, once ``AdminAccess`` has let them in.
    public var admin: AdminIdentity?
    /// The staff page login the request came with (nil for a bearer token).
    public var adminSession: AdminSessions.Session?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}
