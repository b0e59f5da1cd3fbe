import DurableFiles
import Foundation
import NIOCore
import NIOPosix

/// Recording files under a folder, at `key` (for example `sites/SITE/recordings/ID.sealed`). A file
/// is written to a temporary name, flushed to disk and renamed into place, so a reader never sees
/// half a file. File work runs on NIO's thread pool, never on an event loop.
public struct FolderRecordingStore: RecordingStore {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    func path(_ key: String) -> String { (root as NSString).appendingPathComponent(key) }

    public func put(key: String, size: Int, sha256: String, parts: RecordingParts) async throws -> String {
        let final = path(key)
        let folder = (final as NSString).deletingLastPathComponent
        let file = try await Self.blocking {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                return try DurableFile.Writer(path: final)
            } catch {
                throw RecordingStoreError("\(error): check the folder's permissions and free space")
            }
        }
        do {
            var written = 0
            for try await part in parts {
                let bytes = Array(part.readableBytesView)
                try await Self.blocking { try file.append(bytes) }
                written += bytes.count
            }
            guard written == size else {
                throw RecordingStoreError("\(key): \(written) bytes read from the upload, \(size) expected")
            }
        } catch {
            await Self.abandon(file)
            throw error
        }
        // Flushed, renamed into place, the rename itself on disk; the temporary file is gone on failure.
        try await Self.blocking {
            do { try file.commit() } catch { throw RecordingStoreError("\(error)") }
        }
        return key
    }

    public func get(key: String) async throws -> [UInt8]? {
        let file = path(key)
        return try await Self.blocking {
            guard FileManager.default.fileExists(atPath: file) else { return nil }
            return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        }
    }

    public func delete(key: String) async throws {
        let file = path(key)
        try await Self.blocking {
            if unlink(file) != 0, errno != ENOENT {
                throw RecordingStoreError("cannot delete \(file): errno \(errno)")
            }
        }
    }

    static func abandon(_ file: DurableFile.Writer) async {
        _ = try? await blocking { file.abandon() }
    }

    static func blocking<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
