import Crypto
import DurableFiles
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One cached phrase on disk: a small header with the SHA-256 of the audio, then the audio.
///
/// Layout: the magic `EPC1` (4 bytes), the SHA-256 of the audio (32 bytes), the mu-law audio. Files
/// are written to a temporary name in the same folder, fsynced, renamed over the final name, and the
/// folder fsynced, so a crash leaves either no file or a whole one under a valid name. Reads check the
/// hash, so a damaged file is never played.
enum PhraseAudioFile {
    static let magic: [UInt8] = Array("EPC1".utf8)
    static let headerSize = 4 + 32

    /// Why a cached file cannot be used.
    enum ReadError: Error, Equatable, CustomStringConvertible {
        case missing
        case corrupt(String)

        var description: String {
            switch self {
            case .missing: "the file is missing"
            case .corrupt(let why): "the file is damaged: \(why)"
            }
        }
    }

    /// A failed write, with the errno that caused it (ENOSPC for a full disk).
    struct WriteError: Error, CustomStringConvertible {
        let path: String
        let code: Int32
        let step: String

        var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
        var description: String { "cannot \(step) \(path): \(String(cString: strerror(code)))" }
    }

    /// The header and audio of a file holding `audio`.
    static func encode(_ audio: [UInt8]) -> [UInt8] {
        magic + Array(SHA256.hash(data: audio)) + audio
    }

    /// The audio of a file's bytes, after checking the magic and the hash.
    static func decode(_ bytes: [UInt8]) throws(ReadError) -> [UInt8] {
        guard bytes.count >= headerSize, bytes.starts(with: magic) else {
            throw .corrupt("not a phrase cache file (bad header)")
        }
        let audio = Array(bytes[headerSize...])
        guard Array(SHA256.hash(data: audio)).elementsEqual(bytes[4..<headerSize]) else {
            throw .corrupt("the audio does not match its hash")
        }
        return audio
    }

    /// Reads and checks the file at `path`. Small files (a few tens of kilobytes) from the page cache:
    /// the read takes microseconds, so it runs on the calling task rather than a thread pool.
    static func read(_ path: String) throws(ReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw .missing }
            throw .corrupt(String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .corrupt(String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let count = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress! + done, size - done)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .corrupt("short read") }
            done += count
        }
        return try decode(bytes)
    }

    /// Writes `audio` to `path` atomically and durably (``DurableFile``: temporary file, fsync,
    /// rename, fsync folder).
    static func write(_ audio: [UInt8], to path: String) throws(WriteError) {
        do {
            try DurableFile.write(encode(audio), to: path)
        } catch {
            throw WriteError(path: error.path, code: error.code, step: error.step)
        }
    }
}
