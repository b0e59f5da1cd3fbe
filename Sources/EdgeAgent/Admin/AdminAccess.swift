import Foundation
import Hummingbird
public import LocalStore
import Logging
import NIOCore

/// Who may use `/api/v1` and the staff page, checked before any handler runs: the request must come
/// from an allowed network (else 403), and, except for logging in, carry a bearer token or the
/// session cookie of a login (else 401); a change made with the cookie must carry the session's
/// CSRF token (else 403). The identity lands in ``AgentRequestContext/admin``.
public struct AdminAccess: Sendable {
    /// The cookie that holds a staff page session.
    public static let cookieName = "edge_session"

    let tokens: AdminTokens
    let sessions: AdminSessions
    let throttle: LoginThrottle
    let allowed: NetworkAllowList
    /// `admin.token` (`EDGE_ADMIN_TOKEN`): a technician's token from the configuration.
    let configuredToken: Secret?

    /// The identity of `admin.token`.
    static let configuredIdentity = AdminIdentity(id: "configuration", name: "admin.token", role: .technician)

    public init(
        tokens: AdminTokens, sessions: AdminSessions, throttle: LoginThrottle, allowed: NetworkAllowList,
        configuredToken: Secret?
    ) {
        self.tokens = tokens
        self.sessions = sessions
        self.throttle = throttle
        self.allowed = allowed
        self.configuredToken = configuredToken
    }

    /// The remote address as logged and throttled: the IP without the port.
    static func remoteKey(_ context: AgentRequestContext) -> String {
        context.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Refuses a request from outside the allowed networks.
    func checkNetwork(_ context: AgentRequestContext) throws {
        guard allowed.allows(context.channel.remoteAddress) else {
            context.logger.warning(
                "admin request from outside admin.allowed_networks refused",
                metadata: ["admin.remote": .string(Self.remoteKey(context))])
            throw APIError(
                .forbidden, code: "network_not_allowed",
                message: "the admin API answers only the networks in admin.allowed_networks")
        }
    }

    /// The identity of a token: the configured one, else one made with `edge-agent tokens add`.
    func identity(token: String) async throws -> AdminIdentity? {
        if let configuredToken, Self.constantTimeEqual(configuredToken.value, token) {
            return Self.configuredIdentity
        }
        return try await tokens.authenticate(token: token)
    }

    /// A failed login or token (already counted by ``beginAttempt(_:)``): logged without the
    /// credentials, answered 401.
    func refuse(_ context: AgentRequestContext, reason: String) -> APIError {
        context.logger.warning(
            "admin authentication failed",
            metadata: ["admin.remote": .string(Self.remoteKey(context)), "reason": .string(reason)])
        return APIError(.unauthorized, code: "unauthorized", message: reason)
    }

    /// Counts an attempt to present credentials from the request's address, or refuses the address
    /// (429) when it failed too often. Call ``attemptSucceeded(_:)`` when the credentials were right.
    func beginAttempt(_ context: AgentRequestContext) throws {
        if let wait = throttle.begin(Self.remoteKey(context)) {
            let seconds = max(1, Int(wait.components.seconds))
            throw APIError(
                .tooManyRequests, code: "too_many_attempts",
                message: "too many failed logins from this address; try again in \(seconds) s")
        }
    }

    /// Takes back the attempt ``beginAttempt(_:)`` counted.
    func attemptSucceeded(_ context: AgentRequestContext) {
        throttle.forgive(Self.remoteKey(context))
    }

    /// The live session of a cookie whose token still works; the sessions of a revoked token end.
    func session(cookie: String) async throws -> AdminSessions.Session? {
        guard let session = sessions.session(cookie: cookie) else { return nil }
        if session.identity.id != Self.configuredIdentity.id, try await !tokens.isActive(id: session.identity.id) {
            sessions.end(identityID: session.identity.id)
            return nil
        }
        return session
    }

    /// Refuses a form or login posted from another site (`Sec-Fetch-Site: cross-site`, or an `Origin`
    /// that is not this server), so no other page can log a browser in or change anything through it.
    func checkSameOrigin(_ request: Request) throws {
        let refused = APIError(.forbidden, code: "cross_site", message: "a request from another site is refused")
        if request.headers[.init("Sec-Fetch-Site")!] == "cross-site" { throw refused }
        if let origin = request.headers[.origin], origin != "null", let url = URL(string: origin) {
            let host = request.head.authority ?? ""
            let originHost = url.port.map { "\(url.host ?? ""):\($0)" } ?? (url.host ?? "")
            if originHost != host { throw refused }
        }
    }

    /// Authenticates a request: `Authorization: Bearer …`, else the session cookie. Changes with the
    /// cookie must carry its CSRF token.
    func authenticate(_ request: Request, context: inout AgentRequestContext) async throws {
        try checkNetwork(context)
        if let authorization = request.headers[.authorization] {
            try beginAttempt(context)
            guard authorization.hasPrefix("Bearer "), case let token = String(authorization.dropFirst(7)),
                !token.isEmpty
            else { throw refuse(context, reason: "send Authorization: Bearer <token> (edge-agent tokens add)") }
            guard let identity = try await identity(token: token) else {
                throw refuse(context, reason: "the token is unknown or revoked")
            }
            attemptSucceeded(context)
            context.admin = identity
            return
        }
        guard let cookie = request.cookies[Self.cookieName]?.value, !cookie.isEmpty else {
            throw APIError(
                .unauthorized, code: "unauthorized", message: "log in first, or send Authorization: Bearer <token>")
        }
        guard let session = try await session(cookie: cookie) else {
            throw APIError(.unauthorized, code: "session_expired", message: "the session has ended; log in again")
        }
        if ![.get, .head].contains(request.method) {
            guard let sent = request.headers[.init("X-CSRF-Token")!], Self.constantTimeEqual(sent, session.csrfToken)
            else {
                throw APIError(
                    .forbidden, code: "csrf", message: "a change needs the session's CSRF token (X-CSRF-Token)")
            }
        }
        context.admin = session.identity
        context.adminSession = session
    }

    /// Compares without an early exit, so the time taken says nothing of where two strings differ.
    /// The lengths are not secret (every token of a kind has one length); the bytes are.
    static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
