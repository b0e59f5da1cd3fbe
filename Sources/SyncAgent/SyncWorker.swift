public import CoreMetrics
import Foundation
public import LocalStore
public import Logging
public import Resilience
public import Sync

/// The box's sync loop: each round sends the whole outbox (``OutboxUploader``) and records how it went
/// in `sync_state`; between rounds it waits ``interval``, or longer with full jitter after failures.
/// Needs the box to be enrolled (`edge-agent provision`); until then every round records why not.
public actor SyncWorker {
    let database: EdgeDatabase
    let dataDirectory: String
    let urlOverride: String?
    let upstream: Upstream
    let logger: Logger
    let interval: Duration
    let maximumRows: Int
    let maximumBytes: Int
    private var client: SyncClient?
    /// Told which menu items changed at headquarters (the phrase cache warms their new words).
    let onMenuChange: @Sendable (Set<String>) async -> Void
    /// Told when headquarters sent new booking settings.
    let onSettingsChange: @Sendable (SiteSettings) async -> Void
    /// Told when reservations came down, with when they start (Unix ms), to look for overbooking.
    let onReservationsChange: @Sendable (Set<Int64>) async -> Void
    /// Where the recordings are, and whether the box deletes its copy once headquarters has one;
    /// nil when the box does not record.
    let recordings: RecordingUploadSettings?
    /// Recordings already reported as damaged (each is logged once, not every round).
    private var reportedDamaged = Set<String>()
    private let recordingBacklog: Gauge
    private let backlogRows: Gauge
    private let backlogAge: Gauge
    private let lastSuccess: Gauge

    public init(
        database: EdgeDatabase, dataDirectory: String, urlOverride: String?, upstream: Upstream,
        metricsFactory: any MetricsFactory, interval: Duration = .seconds(10), maximumRows: Int = 500,
        maximumBytes: Int = 1_048_576, recordings: RecordingUploadSettings? = nil, logger: Logger,
        onMenuChange: @escaping @Sendable (Set<String>) async -> Void = { _ in },
        onSettingsChange: @escaping @Sendable (SiteSettings) async -> Void = { _ in },
        onReservationsChange: @escaping @Sendable (Set<Int64>) async -> Void = { _ in }
    ) {
        self.onSettingsChange = onSettingsChange
        self.onReservationsChange = onReservationsChange
        self.recordings = recordings
        recordingBacklog = Gauge(label: "edge_sync_recordings_waiting", factory: metricsFactory)
        self.onMenuChange = onMenuChange
        self.database = database
        self.dataDirectory = dataDirectory
        self.urlOverride = urlOverride
        self.upstream = upstream
        self.interval = interval
        self.maximumRows = maximumRows
        self.maximumBytes = maximumBytes
        self.logger = logger
        backlogRows = Gauge(label: "edge_sync_backlog_rows", factory: metricsFactory)
        backlogAge = Gauge(label: "edge_sync_backlog_oldest_age_seconds", factory: metricsFactory)
        lastSuccess = Gauge(label: "edge_sync_last_success_timestamp_seconds", factory: metricsFactory)
    }

    /// What one round did.
    public struct Round: Sendable, Equatable {
        public var upload: OutboxUploader.Report
        public var download: DownloadApplier.Report
        public var recordings = RecordingUploader.Report()
    }

    /// One round: everything in the outbox up, then everything new at headquarters down, then the
    /// state recorded. Throws why it stopped.
    @discardableResult
    public func runOnce() async throws -> Round {
        let state = SyncState(database: database)
        do {
            let (uploader, downloader) = try makeParts()
            let upload = try await uploader.drain()
            let download = try await downloader.pull()
            var recordingsReport = RecordingUploader.Report()
            if let recordings {
                var uploader = RecordingUploader(session: uploader.session, folder: recordings.folder)
                uploader.deleteAfterUpload = recordings.deleteAfterUpload
                recordingsReport = try await uploader.uploadAll()
                for id in recordingsReport.damaged where !reportedDamaged.contains(id) {
                    reportedDamaged.insert(id)
                    logger.error(
                        "a recording's file is missing or does not match its recorded hash; it is not uploaded",
                        metadata: ["recording.id": .string(id)])
                }
            }
            try await state.recordSuccess()
            if upload.batches > 0 || download.applied > 0 || recordingsReport.uploaded > 0 {
                logger.info(
                    "synced with headquarters",
                    metadata: [
                        "sync.sent": .stringConvertible(upload.sent),
                        "sync.received": .stringConvertible(download.applied),
                        "sync.recordings": .stringConvertible(recordingsReport.uploaded),
                    ])
            }
            if !download.changedMenuItems.isEmpty { await onMenuChange(download.changedMenuItems) }
            if let settings = download.settings { await onSettingsChange(settings) }
            if !download.reservationStarts.isEmpty { await onReservationsChange(download.reservationStarts) }
            await publish(state)
            return Round(upload: upload, download: download, recordings: recordingsReport)
        } catch {
            try? await state.recordFailure("\(error)")
            await publish(state)
            throw error
        }
    }

    /// Rounds until the task is cancelled.
    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await runOnce()
                failures = 0
            } catch {
                failures += 1
                logger.warning(
                    "sync with headquarters failed; the outbox keeps everything and tries again",
                    metadata: ["error": "\(error)", "sync.failures": .stringConvertible(failures)])
            }
            try? await Task.sleep(for: delay(afterFailures: failures))
        }
        await client?.shutdown()
    }

    /// The interval, or after failures a full-jitter backoff from it up to five minutes.
    func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return interval }
        let ceiling = min(300.0, interval.seconds * pow(2, Double(min(failures, 10))))
        return .milliseconds(Int64(Double.random(in: interval.seconds...max(interval.seconds, ceiling)) * 1000))
    }

    private func makeParts() throws -> (OutboxUploader, DownloadApplier) {
        guard let link = try HeadquartersLink.load(dataDirectory: dataDirectory, urlOverride: urlOverride) else {
            throw SyncError(
                .notProvisioned,
                "this box is not enrolled at headquarters; run edge-agent provision --hq URL --token TOKEN")
        }
        guard let identity = try DeviceIdentity.load(dataDirectory: dataDirectory) else {
            throw SyncError(.notProvisioned, "the device key is missing; run edge-agent provision again")
        }
        if client == nil || client?.baseURL != link.url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) {
            client = try SyncClient(baseURL: link.url, caCertificatePEM: link.caCertificatePEM, logger: logger)
        }
        let session = SyncSession(
            database: database, client: client!, identity: identity, link: link, upstream: upstream, logger: logger)
        var uploader = OutboxUploader(session: session)
        uploader.maximumRows = maximumRows
        uploader.maximumBytes = maximumBytes
        let downloader = DownloadApplier(session: session)
        return (uploader, downloader)
    }

    private func publish(_ state: SyncState) async {
        if recordings != nil, let waiting = try? await RecordingVault(database: database).uploadBacklog() {
            recordingBacklog.record(waiting.count)
        }
        guard let status = try? await state.status() else { return }
        backlogRows.record(status.backlog)
        let now = database.clock.nowMilliseconds()
        backlogAge.record(Double(status.oldestUnsentAt.map { max(0, now - $0) } ?? 0) / 1000)
        if let success = status.lastSuccessAt { lastSuccess.record(Double(success) / 1000) }
    }
}

/// Where the box's recordings are, for their upload.
public struct RecordingUploadSettings: Sendable {
    public var folder: String
    /// Delete the box's copy once headquarters has verified and stored it.
    public var deleteAfterUpload: Bool

    public init(folder: String, deleteAfterUpload: Bool) {
        self.folder = folder
        self.deleteAfterUpload = deleteAfterUpload
    }
}
