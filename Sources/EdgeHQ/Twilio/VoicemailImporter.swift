public import AsyncHTTPClient
import Crypto
import Foundation
public import Logging
import NIOCore
import PostgresNIO
import Sync

/// Brings a voicemail left at headquarters from Twilio into headquarters' recording store, then
/// writes it as a `voicemails` row the site's box downloads as a staff message, and deletes the
/// recording at Twilio so the caller's voice is not kept there. A failed attempt is retried by the
/// housekeeping loop, up to ``maximumAttempts``; a repeated callback imports nothing twice.
public struct VoicemailImporter: Sendable {
    let database: HQDatabase
    let accounts: SiteTwilioAccounts
    let calls: FallbackCalls
    let store: any RecordingStore
    let http: HTTPClient
    let logger: Logger
    let now: @Sendable () -> Int64
    /// Attempts before a voicemail is marked `failed` (and logged as lost).
    public var maximumAttempts = 10
    /// The largest recording fetched (120 s of 8 kHz 16-bit WAV is under 2 MB).
    static let maximumBytes = 16 * 1024 * 1024

    public init(
        database: HQDatabase, accounts: SiteTwilioAccounts, calls: FallbackCalls, store: any RecordingStore,
        http: HTTPClient, logger: Logger, now: @escaping @Sendable () -> Int64
    ) {
        self.database = database
        self.accounts = accounts
        self.calls = calls
        self.store = store
        self.http = http
        self.logger = logger
        self.now = now
    }

    /// The key a site's voicemail is stored under.
    public static func storageKey(site: String, recordingSID: String) -> String {
        "sites/\(site)/voicemails/\(recordingSID).wav"
    }

    /// Imports every pending voicemail; returns how many were imported.
    @discardableResult
    public func importPending() async -> Int {
        var imported = 0
        do {
            for call in try await calls.pending() where await attempt(call) { imported += 1 }
        } catch {
            logger.warning("cannot list the voicemails waiting for import", metadata: ["error": "\(error)"])
        }
        return imported
    }

    /// Imports the voicemail of one call if it is pending; whether it was imported now.
    @discardableResult
    public func importCall(site: String, callSID: String) async -> Bool {
        guard let call = try? await calls.call(site: site, callSID: callSID), call.importStatus == "pending" else {
            return false
        }
        return await attempt(call)
    }

    private func attempt(_ call: FallbackCalls.Call) async -> Bool {
        do {
            try await importOnce(call)
            return true
        } catch {
            let message = "\(error)"
            logger.warning(
                "a voicemail could not be imported from Twilio; it is tried again",
                metadata: [
                    "site.id": .string(call.siteID), "twilio.call_sid": .string(call.callSID),
                    "error": .string(message),
                ])
            try? await calls.failed(call, error: message, maximumAttempts: maximumAttempts)
            return false
        }
    }

    struct ImportError: Error, CustomStringConvertible {
        let description: String
    }

    private func importOnce(_ call: FallbackCalls.Call) async throws {
        guard let recordingSID = call.recordingSID, let url = call.recordingURL else {
            throw ImportError(description: "the call has no recording yet")
        }
        guard let account = try await accounts.account(site: call.siteID) else {
            throw ImportError(description: "the site has no Twilio account registered")
        }
        let authorization =
            "Basic " + Data("\(account.accountSID):\(account.authToken)".utf8).base64EncodedString()
        var request = HTTPClientRequest(url: url + ".wav")
        request.headers.add(name: "Authorization", value: authorization)
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: Self.maximumBytes)
        guard response.status == .ok else {
            throw ImportError(description: "Twilio answered HTTP \(response.status.code) for the recording")
        }
        guard body.readableBytes > 44 else { throw ImportError(description: "Twilio sent an empty recording") }
        let key = Self.storageKey(site: call.siteID, recordingSID: recordingSID)
        let hash = SHA256.hash(data: Data(body.readableBytesView)).map { String(format: "%02x", $0) }.joined()
        let part = body
        _ = try await store.put(
            key: key, size: body.readableBytes, sha256: hash,
            parts: RecordingParts { offset in offset == 0 ? (part, part.readableBytes) : nil })
        let voicemail = Voicemail(
            id: "vm_" + recordingSID, callSID: call.callSID, caller: call.caller, language: call.language,
            durationSeconds: call.recordingSeconds ?? 0, calledAt: call.calledAt)
        let row = String(decoding: try JSONEncoder().encode(voicemail), as: UTF8.self)
        let changedAt = now()
        try await database.transaction { connection in
            try await connection.query(
                """
                WITH next AS (
                    UPDATE sites SET change_seq = change_seq + 1 WHERE id = \(call.siteID) RETURNING change_seq
                )
                INSERT INTO voicemails (site_id, id, version, changed_at, origin, row, seq, storage_key)
                SELECT \(call.siteID), \(voicemail.id), 1, \(changedAt), 'hq', \(row)::jsonb, change_seq, \(key)
                FROM next
                ON CONFLICT (site_id, id) DO NOTHING
                """, logger: logger)
            try await connection.query(
                """
                UPDATE fallback_calls SET import_status = 'imported', imported_at = now(), last_error = NULL
                WHERE site_id = \(call.siteID) AND call_sid = \(call.callSID)
                """, logger: logger)
        }
        logger.info(
            "voicemail imported",
            metadata: ["site.id": .string(call.siteID), "voicemail.id": .string(voicemail.id)])
        // Best effort: the copy at headquarters is the one kept; one left at Twilio is only a copy.
        var delete = HTTPClientRequest(url: url + ".json")
        delete.method = .DELETE
        delete.headers.add(name: "Authorization", value: authorization)
        if let answer = try? await http.execute(delete, timeout: .seconds(10)) {
            _ = try? await answer.body.collect(upTo: 64 * 1024)
            if answer.status != .noContent && answer.status != .notFound {
                logger.warning(
                    "Twilio kept a voicemail's recording after import",
                    metadata: ["http.status": .stringConvertible(answer.status.code)])
            }
        }
    }
}
