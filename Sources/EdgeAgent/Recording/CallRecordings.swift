public import CallRecording
import Crypto
import Foundation
public import LocalStore
public import Logging
public import Sync

/// What a call needs to record itself: the owner's public key, where the files go, and the rows.
public struct CallRecordings: Sendable {
    public let ownerPublicKey: [UInt8]
    /// `EDGE_DATA_DIR/recordings`.
    public let folder: String
    public let vault: RecordingVault
    /// Play the recording notice before recording starts.
    public let noticeRequired: Bool
    let metrics: AgentMetrics
    let clock: any WallClock

    public init(
        ownerPublicKey: [UInt8], folder: String, vault: RecordingVault, noticeRequired: Bool, metrics: AgentMetrics,
        clock: any WallClock
    ) {
        self.clock = clock
        self.ownerPublicKey = ownerPublicKey
        self.folder = folder
        self.vault = vault
        self.noticeRequired = noticeRequired
        self.metrics = metrics
    }

    /// The file of a recording.
    public func path(of fileName: String) -> String { "\(folder)/\(fileName)" }

    /// Starts recording a call: the file with its header, then the row. Fails (and the call goes on
    /// unrecorded) when the disk refuses.
    public func start(callID: String, at start: ContinuousClock.Instant) async throws -> (
        recorder: CallRecorder, id: String
    ) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let id = UUID().uuidString.lowercased()
        let fileName = "\(id).rec"
        let recorder = try CallRecorder(path: path(of: fileName), ownerPublicKey: ownerPublicKey, start: start)
        try await vault.begin(
            Recording(
                id: id, callID: callID, fileName: fileName, sealedKey: Data(recorder.sealedKey), state: .recording,
                startedAt: clock.nowMilliseconds()))
        return (recorder, id)
    }

    /// Destroys the files of `recordings` (header overwritten, then unlinked: see ``SealedFileShredder``).
    public func destroyFiles(of recordings: [Recording]) throws {
        for recording in recordings {
            try SealedFileShredder.destroy(path: path(of: recording.fileName))
        }
    }

    /// The size and SHA-256 of a recording's file as it is on disk, or nil when it is gone.
    public func measure(_ recording: Recording) -> (size: Int, sha256: String)? {
        guard let data = FileManager.default.contents(atPath: path(of: recording.fileName)) else { return nil }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return (data.count, digest)
    }

    /// Closes recordings a crash left open (as partial), and deletes those past `retentionDays`
    /// (file, then sealed key: crypto-shredding). Run at start; ``RecordingRetentionService`` applies
    /// the retention daily after that.
    public func maintain(retentionDays: Int, logger: Logger) async {
        do {
            let recovered = try await vault.closeInterrupted(measure: { measure($0) })
            if recovered > 0 {
                logger.warning(
                    "recordings left open by a crash were closed as partial",
                    metadata: ["recording.count": .stringConvertible(recovered)])
            }
        } catch {
            logger.error("recording maintenance failed", metadata: ["error": "\(error)"])
        }
        await applyRetention(retentionDays: retentionDays, logger: logger)
    }

    /// Deletes the recordings started more than `retentionDays` ago (file, then sealed key), each
    /// audited; returns how many. A failure is logged, and the rest wait for the next pass.
    @discardableResult
    public func applyRetention(retentionDays: Int, logger: Logger) async -> Int {
        var deleted = 0
        do {
            let cutoff = clock.nowMilliseconds() - Int64(retentionDays) * 86_400_000
            for recording in try await vault.olderThan(cutoff) {
                try destroyFiles(of: [recording])
                try await vault.shred(id: recording.id, reason: "retention", actor: "agent")
                deleted += 1
            }
        } catch {
            logger.error("recording retention failed", metadata: ["error": "\(error)"])
        }
        if deleted > 0 {
            logger.info("recordings past retention deleted", metadata: ["recording.count": .stringConvertible(deleted)])
        }
        return deleted
    }
}
