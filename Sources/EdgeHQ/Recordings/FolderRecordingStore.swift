import Foundation
public import NIOCore
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
        let temporary = final + ".part-" + UUID().uuidString.lowercased()
        try await Self.blocking {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
                throw RecordingStoreError("cannot create \(temporary): check the folder's permissions and free space")
            }
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            var written = 0
            do {
                for try await part in parts {
                    let bytes = Data(part.readableBytesView)
                    try await Self.blocking { try handle.write(contentsOf: bytes) }
                    written += bytes.count
                }
                guard written == size else {
                    throw RecordingStoreError("\(key): \(written) bytes read from the upload, \(size) expected")
                }
                try await Self.blocking {
                    try handle.synchronize()
                    try handle.close()
                }
            } catch {
                try? handle.close()
                throw error
            }
            try await Self.blocking {
                guard rename(temporary, final) == 0 else {
                    throw RecordingStoreError("cannot move the recording into \(final): errno \(errno)")
                }
                // The rename itself must reach the disk.
                let directory = open(folder, O_RDONLY)
                if directory >= 0 {
                    fsync(directory)
                    close(directory)
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
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

    static func blocking<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
