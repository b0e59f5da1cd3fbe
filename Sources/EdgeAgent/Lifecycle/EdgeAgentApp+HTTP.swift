import Foundation
import HTTPErrors
public import Hummingbird
import HummingbirdWebSocket
import LocalStore
public import NIOCore

/// The agent's HTTP side: every route, and the server that serves them.
extension EdgeAgentApp {
    /// Every route of the agent behind the logging and metrics middleware, the Media Stream included.
    public func makeRouter() -> Router<AgentRequestContext> {
        let router = Router(context: AgentRequestContext.self)
        router.add(middleware: RequestLoggingMiddleware())
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        HealthRoutes.agent(
            readiness: ReadinessProbe(database: database, configuration: configuration, upstreams: configuredUpstreams),
            metrics: metrics
        )
        .register(on: router)
        let access = AdminAccess(
            tokens: AdminTokens(database: database), sessions: AdminSessions(), throttle: LoginThrottle(),
            allowed: configuration.adminAllowedNetworks, configuredToken: configuration.adminToken)
        AdminAPIRoutes(app: self, access: access).register(on: router)
        do {
            try StaffPage(app: self, access: access).register(on: router)
        } catch {
            logger.error("the staff page is off", metadata: ["error": "\(error)"])
        }
        TwilioWebhookRoutes(
            configuration: configuration, calls: CallLog(database: database), streamTokens: streamTokens,
            recordingImporter: twilioRecordingImporter,
            textReplies: textMessagesReady
                ? TextReplies(
                    queue: TextConfirmations(database: database),
                    book: ReservationBook(database: database, policies: policies), phrases: phrases,
                    restaurantName: configuration.restaurant.name) : nil
        )
        .register(on: router)
        let handler = MediaStreamHandler(
            services: makeCallServices(),
            stallTimeout: .milliseconds(Int64(configuration.mediaStreamStallSeconds * 1000)))
        let upgradeCheck = MediaStreamUpgradeCheck(configuration: configuration)
        router.ws("/twilio/media") { request, context in
            do {
                try upgradeCheck.verify(request, logger: context.logger)
            } catch let error as APIError {
                try await RefusedUpgradeStatus.answer(error.status, on: context.channel)
                throw error
            }
            context.logger.debug("Media Stream connecting")
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            await handler.run(inbound: inbound, outbound: outbound, logger: context.logger)
        }
        return router
    }

    /// The HTTP server on the configured host and port.
    public func makeApplication(
        router: Router<AgentRequestContext>,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(
                address: .hostname(configuration.http.host, port: configuration.http.port), serverName: "edge-agent"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
