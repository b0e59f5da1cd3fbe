import Foundation
public import Logging
import PostgresNIO

/// The `fallback_calls` table: each call Twilio sent to headquarters because the box did not answer,
/// what the landline did, and the voicemail it left, until that is imported.
public struct FallbackCalls: Sendable {
    let database: HQDatabase
    let logger: Logger

    public init(database: HQDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// One call as stored.
    public struct Call: Sendable, Equatable {
        public var siteID: String
        public var callSID: String
        public var caller: String?
        public var language: String
        public var calledAt: Int64
        public var dialStatus: String?
        public var recordingSID: String?
        public var recordingURL: String?
        public var recordingSeconds: Int?
        public var importStatus: String
        public var importAttempts: Int
    }

    /// Notes a call arriving (a repeated request for the same call keeps the first note).
    func begin(site: String, callSID: String, caller: String?, language: String, at calledAt: Int64) async throws {
        try await database.query(
            """
            INSERT INTO fallback_calls (site_id, call_sid, caller, language, called_at)
            VALUES (\(site), \(callSID), \(caller), \(language), \(calledAt))
            ON CONFLICT (site_id, call_sid) DO NOTHING
            """, logger: logger)
    }

    /// What `<Dial>` to the landline ended with.
    func dialed(site: String, callSID: String, status: String) async throws {
        try await database.query(
            "UPDATE fallback_calls SET dial_status = \(status) WHERE site_id = \(site) AND call_sid = \(callSID)",
            logger: logger)
    }

    /// A completed recording: its import is pending, unless it was already imported. Returns whether
    /// the call is known.
    func recorded(site: String, callSID: String, recordingSID: String, url: String, seconds: Int) async throws -> Bool {
        let rows = try await database.query(
            """
            UPDATE fallback_calls SET recording_sid = \(recordingSID), recording_url = \(url),
                recording_seconds = \(seconds),
                import_status = CASE WHEN import_status = 'imported' THEN 'imported' ELSE 'pending' END
            WHERE site_id = \(site) AND call_sid = \(callSID)
            RETURNING call_sid
            """, logger: logger)
        for try await _ in rows.decode(String.self) { return true }
        return false
    }

    /// One call, or nil.
    public func call(site: String, callSID: String) async throws -> Call? {
        try await calls(where: "site_id = $1 AND call_sid = $2", binds: [site, callSID]).first
    }

    /// Calls whose voicemail waits for import, oldest first.
    func pending(limit: Int = 20) async throws -> [Call] {
        try await calls(where: "import_status = 'pending' ORDER BY called_at LIMIT \(limit)", binds: [])
    }

    private func calls(where condition: String, binds values: [String]) async throws -> [Call] {
        var bindings = PostgresBindings()
        for value in values { bindings.append(value) }
        let rows = try await database.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT site_id, call_sid, caller, language, called_at, dial_status, recording_sid, recording_url,
                        recording_seconds, import_status, import_attempts
                    FROM fallback_calls WHERE \(condition)
                    """, binds: bindings), logger: logger)
        var calls: [Call] = []
        for try await row in rows.decode(
            (String, String, String?, String, Int64, String?, String?, String?, Int?, String, Int).self)
        {
            calls.append(
                Call(
                    siteID: row.0, callSID: row.1, caller: row.2, language: row.3, calledAt: row.4, dialStatus: row.5,
                    recordingSID: row.6, recordingURL: row.7, recordingSeconds: row.8, importStatus: row.9,
                    importAttempts: row.10))
        }
        return calls
    }

    /// A failed import attempt: counted, and given up on after `maximumAttempts`.
    func failed(_ call: Call, error: String, maximumAttempts: Int) async throws {
        try await database.query(
            """
            UPDATE fallback_calls SET import_attempts = import_attempts + 1, last_error = \(error),
                import_status = CASE WHEN import_attempts + 1 >= \(maximumAttempts) THEN 'failed' ELSE 'pending' END
            WHERE site_id = \(call.siteID) AND call_sid = \(call.callSID)
            """, logger: logger)
    }
}
