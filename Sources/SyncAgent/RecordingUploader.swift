import Crypto
import Foundation
import LocalStore
import Logging
import NIOCore
import NIOPosix
import Resilience
import Sync

/// Sends closed recordings' encrypted files to headquarters after their call, oldest first, part by
/// part (never the whole file in memory). Every upload starts by asking headquarters where it stands,
/// so one cut off (a lost connection, a reboot, headquarters down) resumes from the last part
/// headquarters kept. A file is checked against its recorded size and SHA-256 before it is sent, and
/// counted uploaded only once headquarters has verified that same hash and stored it; then, with
/// ``deleteAfterUpload``, the box's copy is deleted.
public struct RecordingUploader: Sendable, SyncSessionPart {
    let session: SyncSession
    /// The folder the recordings' `file_name`s are in.
    let folder: String
    /// Delete the box's copy once headquarters has stored it.
    public var deleteAfterUpload = false
    /// Bytes per request.
    public var partBytes = 256 * 1024

    public init(session: SyncSession, folder: String) {
        self.session = session
        self.folder = folder
    }

    /// What a pass did.
    public struct Report: Sendable, Equatable {
        /// Recordings headquarters stored in this pass.
        public var uploaded = 0
        /// File bytes sent in this pass (less than the files' size when an upload resumed).
        public var bytesSent = 0
        /// Box copies deleted after their upload.
        public var filesDeleted = 0
        /// Recordings whose file is missing or does not match its recorded size and hash: not sent.
        public var damaged: [String] = []
    }

    /// Uploads every closed recording not yet stored at headquarters; throws the first failure to
    /// reach headquarters (what was stored stays stored, and the rest resumes next time).
    public func uploadAll() async throws -> Report {
        var report = Report()
        let vault = RecordingVault(database: database)
        for recording in try await vault.awaitingUpload() {
            guard let size = recording.sizeBytes, let sha256 = recording.ciphertextSHA256 else { continue }
            let path = (folder as NSString).appendingPathComponent(recording.fileName)
            guard try await Self.fileMatches(path: path, size: size, sha256: sha256) else {
                report.damaged.append(recording.id)
                continue
            }
            try await upload(recording.id, path: path, size: size, sha256: sha256, report: &report)
            try await vault.markUploaded(id: recording.id, sha256: sha256)
            report.uploaded += 1
        }
        if deleteAfterUpload {
            for recording in try await vault.uploadedWithFile() {
                let path = (folder as NSString).appendingPathComponent(recording.fileName)
                try await Self.blocking {
                    if unlink(path) != 0, errno != ENOENT {
                        throw SyncError(.storage, "cannot delete the uploaded recording \(path): errno \(errno)")
                    }
                }
                try await vault.markFileDeleted(id: recording.id)
                report.filesDeleted += 1
            }
        }
        return report
    }

    private func upload(_ id: String, path: String, size: Int, sha256: String, report: inout Report) async throws {
        let (client, identity, deviceID) = (self.client, self.identity, link.deviceID)
        var status = try await upstream.run(classify: OutboxUploader.classify) {
            try await client.openRecordingUpload(
                id: id, RecordingUploadRequest(sizeBytes: size, sha256: sha256), identity: identity, deviceID: deviceID)
        }
        var restarts = 0
        while !status.stored {
            if status.receivedBytes >= status.sizeBytes {
                do {
                    status = try await upstream.run(classify: OutboxUploader.classify) {
                        try await client.completeRecordingUpload(id: id, identity: identity, deviceID: deviceID)
                    }
                } catch let error as SyncError where error.serverCode == "hash_mismatch" && restarts < 1 {
                    // What arrived was not the file (headquarters dropped it): send it once more.
                    logger.warning("headquarters found the recording damaged in transit; sending it again")
                    restarts += 1
                    status.receivedBytes = 0
                }
                continue
            }
            let offset = status.receivedBytes
            let part = try await Self.read(path: path, offset: offset, count: min(partBytes, size - offset))
            do {
                status = try await upstream.run(classify: OutboxUploader.classify) {
                    try await client.sendRecordingPart(
                        id: id, offset: offset, part: part, identity: identity, deviceID: deviceID)
                }
                report.bytesSent += part.readableBytes
            } catch let error as SyncError where error.serverCode == "offset_mismatch" {
                // Headquarters holds more (or less) than this box thought: ask, and go on from there.
                status = try await upstream.run(classify: OutboxUploader.classify) {
                    try await client.openRecordingUpload(
                        id: id, RecordingUploadRequest(sizeBytes: size, sha256: sha256), identity: identity,
                        deviceID: deviceID)
                }
                _ = error
            }
        }
    }

    /// Whether the file at `path` is there with the recorded size and SHA-256 (read in parts).
    static func fileMatches(path: String, size: Int, sha256: String) async throws -> Bool {
        try await blocking {
            guard let handle = FileHandle(forReadingAtPath: path) else { return false }
            defer { try? handle.close() }
            var hasher = SHA256()
            var total = 0
            while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                hasher.update(data: data)
                total += data.count
            }
            return total == size && hasher.finalize().map { String(format: "%02x", $0) }.joined() == sha256
        }
    }

    static func read(path: String, offset: Int, count: Int) async throws -> ByteBuffer {
        try await blocking {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw SyncError(.storage, "the recording file \(path) is gone")
            }
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw SyncError(.storage, "the recording file \(path) is shorter than recorded")
            }
            return ByteBuffer(bytes: data)
        }
    }

    static func blocking<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
