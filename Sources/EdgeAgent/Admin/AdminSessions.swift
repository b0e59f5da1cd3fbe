import Crypto
import Foundation
public import LocalStore
import Synchronization

/// The staff page's logins: a session cookie per login, each with its own CSRF token, held in
/// memory (a restart logs everybody out, which is the safe side). A session ends after `idle`
/// without a request, after `lifetime` in any case, on logout, and when its token is revoked.
public final class AdminSessions: Sendable {
    /// One login.
    public struct Session: Sendable, Equatable {
        public let identity: AdminIdentity
        /// Sent back in `X-CSRF-Token` (or the form's `csrf_token`) with every change.
        public let csrfToken: String
        let created: ContinuousClock.Instant
        var lastSeen: ContinuousClock.Instant
    }

    let idle: Duration
    let lifetime: Duration
    let now: @Sendable () -> ContinuousClock.Instant
    /// Sessions by the SHA-256 of their cookie value: the cookie itself is never kept.
    private let sessions = Mutex<[String: Session]>([:])

    public init(
        idle: Duration = .seconds(12 * 3600), lifetime: Duration = .seconds(7 * 86_400),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.idle = idle
        self.lifetime = lifetime
        self.now = now
    }

    /// Starts a session; returns the cookie value and the session.
    public func start(_ identity: AdminIdentity) -> (cookie: String, session: Session) {
        let cookie = Self.randomToken()
        let now = now()
        let session = Session(identity: identity, csrfToken: Self.randomToken(), created: now, lastSeen: now)
        sessions.withLock { sessions in
            sessions = sessions.filter { isLive($0.value, at: now) }
            sessions[Self.key(cookie)] = session
        }
        return (cookie, session)
    }

    /// The live session of a cookie, its idle time restarted; nil when unknown or expired.
    public func session(cookie: String) -> Session? {
        let now = now()
        let key = Self.key(cookie)
        return sessions.withLock { sessions in
            guard var session = sessions[key] else { return nil }
            guard isLive(session, at: now) else {
                sessions[key] = nil
                return nil
            }
            session.lastSeen = now
            sessions[key] = session
            return session
        }
    }

    /// Ends the session of a cookie.
    public func end(cookie: String) {
        _ = sessions.withLock { $0.removeValue(forKey: Self.key(cookie)) }
    }

    /// Ends every session of a token (revoked while logged in).
    public func end(identityID: String) {
        sessions.withLock { sessions in sessions = sessions.filter { $0.value.identity.id != identityID } }
    }

    private func isLive(_ session: Session, at now: ContinuousClock.Instant) -> Bool {
        now - session.lastSeen < idle && now - session.created < lifetime
    }

    static func key(_ cookie: String) -> String {
        SHA256.hash(data: Data(cookie.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// 32 random bytes, base64url without padding.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
