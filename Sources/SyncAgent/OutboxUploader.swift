import Crypto
import Foundation
import GRDB
public import LocalStore
import Logging
import Resilience
import Sync

/// Sends the outbox to headquarters, oldest first, in batches bounded by rows and bytes. A batch's
/// idempotency key is derived from the outbox ids it holds, so a batch resent after a lost answer or a
/// crash is the same batch with the same key, and headquarters answers it without applying it twice.
/// Entries are marked sent only after headquarters' answer: applied and superseded ones as sent,
/// rejected ones as sent with the reason (never resent). Headquarters being down goes through the
/// ``Upstream`` (circuit breaker, retries with full jitter).
public struct OutboxUploader: Sendable, SyncSessionPart {
    let session: SyncSession
    public var maximumRows = 500
    public var maximumBytes = 1_048_576

    public init(session: SyncSession) {
        self.session = session
    }

    /// What a drain did.
    public struct Report: Sendable, Equatable {
        public var batches = 0
        public var sent = 0
        public var superseded = 0
        public var rejected = 0
    }

    /// Sends batches until the outbox is empty; throws the first failure (what was sent stays sent).
    public func drain() async throws -> Report {
        var report = Report()
        while let batch = try await nextBatch() {
            try await send(batch, report: &report)
        }
        return report
    }

    /// The next batch: the oldest unsent entries within the row and byte bounds (at least one).
    public func nextBatch() async throws -> (entries: [OutboxEntry], batch: EncodedBatch)? {
        let maximumRows = self.maximumRows
        let maximumBytes = self.maximumBytes
        let entries = try await database.read { db in
            var taken: [OutboxEntry] = []
            var bytes = 0
            for entry in try Outbox.pending(limit: maximumRows, in: db) {
                if !taken.isEmpty && bytes + entry.payload.utf8.count > maximumBytes { break }
                bytes += entry.payload.utf8.count
                taken.append(entry)
            }
            return taken
        }
        guard !entries.isEmpty else { return nil }
        let ids = entries.compactMap(\.id).map(String.init).joined(separator: ",")
        let key =
            "outbox-"
            + SHA256.hash(data: Data("\(link.deviceID):\(ids)".utf8)).prefix(16)
            .map { String(format: "%02x", $0) }.joined()
        return (entries, EncodedBatch(idempotencyKey: key, siteID: link.siteID, payloads: entries.map(\.payload)))
    }

    private func send(_ next: (entries: [OutboxEntry], batch: EncodedBatch), report: inout Report) async throws {
        let result: UploadResult
        do {
            result = try await upstream.run(classify: Self.classify) {
                try await client.upload(json: next.batch.json, identity: identity, deviceID: link.deviceID)
            }
        } catch {
            let ids = next.entries.compactMap(\.id)
            try? await database.write { db in try Outbox.noteFailure(ids: ids, reason: "\(error)", in: db) }
            throw error
        }
        guard result.rows.count == next.entries.count else {
            throw SyncError(
                .badAnswer, "headquarters answered \(result.rows.count) results for \(next.entries.count) changes")
        }
        let now = database.clock.nowMilliseconds()
        let outcome = try await database.write { db -> Report in
            var counts = Report()
            var sent: [Int64] = []
            for (entry, row) in zip(next.entries, result.rows) {
                guard let id = entry.id else { continue }
                switch row.outcome {
                case .applied:
                    sent.append(id)
                    counts.sent += 1
                case .superseded:
                    sent.append(id)
                    counts.superseded += 1
                case .rejected:
                    try Outbox.markRejected(
                        id: id, reason: "rejected by headquarters: \(row.message ?? "no reason")", at: now, in: db)
                    counts.rejected += 1
                }
            }
            try Outbox.markSent(ids: sent, at: now, in: db)
            return counts
        }
        report.batches += 1
        report.sent += outcome.sent
        report.superseded += outcome.superseded
        report.rejected += outcome.rejected
        if outcome.rejected > 0 {
            logger.warning(
                "headquarters rejected changes; they are kept with the reason and not resent",
                metadata: ["sync.rejected": .stringConvertible(outcome.rejected)])
        }
    }

    static func classify(_ error: any Error) -> FailureKind {
        guard let error = error as? SyncError else { return .retryable }
        return error.isRetryable ? .retryable : .permanent
    }
}

/// An ``UploadBatch`` as JSON with sorted keys, made from the outbox's stored payloads (each a
/// ``SyncChange`` already encoded with sorted keys) without decoding and encoding them again.
public struct EncodedBatch: Sendable {
    public let idempotencyKey: String
    public let json: [UInt8]

    init(idempotencyKey: String, siteID: String, payloads: [String]) {
        self.idempotencyKey = idempotencyKey
        func quoted(_ text: String) -> String {
            String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
        }
        var text = "{\"changes\":["
        text.reserveCapacity(payloads.reduce(64) { $0 + $1.utf8.count + 1 })
        for (index, payload) in payloads.enumerated() {
            if index > 0 { text += "," }
            text += payload
        }
        text += "],\"idempotency_key\":\(quoted(idempotencyKey)),\"site_id\":\(quoted(siteID))}"
        json = Array(text.utf8)
    }
}
