import CSodium
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Destroys a recording file for good: its header, which holds the stream key sealed to the owner, is
/// overwritten with random bytes and flushed to the disk before the file is unlinked, so not even the
/// owner's private key can open a copy of the rest left on the disk (crypto-shredding). A file already
/// gone counts as destroyed.
public enum SealedFileShredder {
    /// Why a file could not be destroyed.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Bytes overwritten at the start of the file: the whole header with room to spare.
    static let overwrittenBytes = 4096

    public static func destroy(path: String) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return }
            throw Failure(description: "cannot open \(path) to destroy it: \(String(cString: strerror(code)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw Failure(description: "cannot read the size of \(path): \(String(cString: strerror(errno)))")
        }
        var noise = [UInt8](repeating: 0, count: min(Int(status.st_size), overwrittenBytes))
        randombytes_buf(&noise, noise.count)
        let written = noise.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        guard written == noise.count, fsync(descriptor) == 0 else {
            throw Failure(description: "cannot overwrite \(path): \(String(cString: strerror(errno)))")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw Failure(description: "cannot delete \(path): \(String(cString: strerror(errno)))")
        }
    }
}
