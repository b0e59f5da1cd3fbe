public import Logging
public import ServiceLifecycle

/// `serve`'s daily recording retention: recordings older than `recording.retention_days` are
/// crypto-shredded once a day while the agent runs (the pass at start is ``EdgeAgentApp/prepare``'s
/// maintenance), so a box that runs for months keeps no recording past its retention.
public struct RecordingRetentionService: Service {
    let recordings: CallRecordings?
    let retentionDays: Int
    let interval: Duration
    let sleep: @Sendable (Duration) async throws -> Void
    let logger: Logger

    /// - Parameter sleep: waits `interval` between passes; tests pass one they control.
    public init(
        recordings: CallRecordings?, retentionDays: Int, interval: Duration = .seconds(86_400),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        logger: Logger
    ) {
        self.recordings = recordings
        self.retentionDays = retentionDays
        self.interval = interval
        self.sleep = sleep
        self.logger = logger
    }

    public func run() async throws {
        guard let recordings else { return }
        await cancelWhenGracefulShutdown {
            while true {
                do {
                    try await sleep(interval)
                } catch {
                    return
                }
                await recordings.applyRetention(retentionDays: retentionDays, logger: logger)
            }
        }
    }
}
