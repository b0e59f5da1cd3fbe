import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data folder (`flock` on `<data>/edge-agent.lock`): `serve` holds it while it
/// runs, and `restore` takes it before replacing the database, so a backup is never put under a
/// running agent. The kernel releases it when the process ends, however it ends.
public final class DataFolderLock: Sendable {
    /// The lock file's name inside the data folder.
    public static let fileName = "edge-agent.lock"
    private let descriptor: Int32

    /// Takes the lock of `dataDirectory` without waiting; throws when another process holds it.
    public init(dataDirectory: String) throws {
        try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = (dataDirectory as NSString).appendingPathComponent(Self.fileName)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(
                .cannotOpen, "cannot open \(path): check EDGE_DATA_DIR and that it belongs to the agent's user")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw StoreError(
                .locked,
                "the data folder \(dataDirectory) is in use by a running edge-agent; stop it first (systemctl stop edge-agent)"
            )
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
