import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on loopback between headquarters' pool and PostgreSQL, which can cut every
/// connection through it at once: both sides are closed, as when a proxy or a PgBouncer in between
/// restarts. PostgreSQL then ends the
/// backend and rolls its transaction back; headquarters sees its connection fail mid-statement.
final class ConnectionCutProxy: Sendable {
    private let server: any Channel
    private let open = OpenChannels()
    /// The port headquarters connects to.
    let port: Int

    /// Starts listening on a free loopback port, forwarding to `host`:`upstreamPort`.
    init(host: String, upstreamPort: Int) async throws {
        let open = self.open
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Nothing is read from the client until the upstream connection is glued to it.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                let key = ObjectIdentifier(inbound)
                open.channels.withLock { $0[key] = inbound }
                inbound.closeFuture.whenComplete { _ in _ = open.channels.withLock { $0.removeValue(forKey: key) } }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: host, port: upstreamPort)
                    .flatMapThrowing { outbound in
                        // Both channels are on `inbound`'s event loop, so the pair shares one thread.
                        // The client may go while the upstream connection is made, before the glue
                        // could see it go: the upstream connection closes with it in any case.
                        inbound.closeFuture.whenComplete { _ in outbound.close(promise: nil) }
                        let (clientSide, serverSide) = GlueHandler.matchedPair()
                        try inbound.pipeline.syncOperations.addHandler(clientSide)
                        try outbound.pipeline.syncOperations.addHandler(serverSide)
                        inbound.setOption(.autoRead, value: true).whenComplete { _ in }
                    }
                    .flatMapError { error in inbound.close().flatMapThrowing { throw error } }
            }
        server = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = server.localAddress!.port!
    }

    /// Cuts every connection open now; new ones are accepted as before.
    func cutAll() async {
        let channels = open.channels.withLock { Array($0.values) }
        for channel in channels {
            try? await channel.close()
        }
    }

    func stop() async {
        await cutAll()
        try? await server.close()
    }
}

/// The client connections open through the proxy.
private final class OpenChannels: Sendable {
    let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
}

/// One half of a pair that copies bytes between two channels on the same event loop, with
/// back-pressure (a side reads only while the other can write), and closes each when the other
/// closes. After SwiftNIO's connect-proxy example.
private final class GlueHandler {
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerClose() { context?.close(promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }
}

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.partnerWrite(data) }

    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }

    func channelInactive(context: ChannelHandlerContext) { partner?.partnerClose() }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
