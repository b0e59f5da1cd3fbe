import CSodium
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes one encrypted recording (``SealedStreamFormat``): a fresh random key per recording, sealed to
/// the owner's public key, and the plaintext pushed through libsodium's secretstream one chunk at a
/// time, each chunk written and fsynced before the next. The plain key lives in memory allocated here
/// and is wiped with `sodium_memzero` when the recording closes. Not thread-safe: one owner (the
/// recording's actor) uses it.
final class SealedStreamWriter {
    /// A write the disk refused, with what happened.
    struct WriteError: Error, CustomStringConvertible {
        let path: String
        let code: Int32
        var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
        var description: String { "cannot write the recording \(path): \(String(cString: strerror(code)))" }
    }

    let path: String
    let recordingID: [UInt8]
    let sealedKey: [UInt8]
    private(set) var bytesWritten = 0
    private(set) var chunks = 0
    private let descriptor: Int32
    private let key: UnsafeMutablePointer<UInt8>
    private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
    private var hash = crypto_hash_sha256_state()
    private var closed = false

    /// Creates the file (it must not exist) and writes the header.
    init(path: String, ownerPublicKey: [UInt8]) throws {
        guard sodium_init() >= 0 else { throw RecordingFileError(.sodium, "libsodium could not start") }
        guard ownerPublicKey.count == Int(crypto_box_publickeybytes()) else {
            throw RecordingFileError(.badIdentity, "the owner's public key must be 32 bytes")
        }
        self.path = path
        key = .allocate(capacity: SealedStreamFormat.streamKeySize)
        state = .allocate(capacity: 1)
        crypto_secretstream_xchacha20poly1305_keygen(key)
        var id = [UInt8](repeating: 0, count: SealedStreamFormat.recordingIDSize)
        randombytes_buf(&id, id.count)
        recordingID = id
        var sealed = [UInt8](repeating: 0, count: SealedStreamFormat.streamKeySize + SealedStreamFormat.sealOverhead)
        guard crypto_box_seal(&sealed, key, UInt64(SealedStreamFormat.streamKeySize), ownerPublicKey) == 0 else {
            Self.wipe(key, state)
            throw RecordingFileError(.badIdentity, "the owner's public key is not a valid X25519 key")
        }
        sealedKey = sealed
        var streamHeader = [UInt8](repeating: 0, count: SealedStreamFormat.streamHeaderSize)
        crypto_secretstream_xchacha20poly1305_init_push(state, &streamHeader, key)

        var header = SealedStreamFormat.magic + [SealedStreamFormat.version, SealedStreamFormat.cipherSuite] + id
        header += [UInt8(sealed.count >> 8), UInt8(sealed.count & 0xFF)] + sealed + streamHeader
        header += Self.headerCheck(header, key: key)

        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            Self.wipe(key, state)
            throw WriteError(path: path, code: code)
        }
        crypto_hash_sha256_init(&hash)
        do {
            try write(header)
        } catch {
            Glibc.close(descriptor)
            Self.wipe(key, state)
            closed = true
            throw error
        }
    }

    deinit {
        if !closed {
            Glibc.close(descriptor)
            Self.wipe(key, state)
        }
        key.deallocate()
        state.deallocate()
    }

    /// BLAKE2b, 16 bytes, keyed with the stream key, over the header so far.
    static func headerCheck(_ header: [UInt8], key: UnsafePointer<UInt8>) -> [UInt8] {
        var check = [UInt8](repeating: 0, count: SealedStreamFormat.headerCheckSize)
        crypto_generichash(&check, check.count, header, UInt64(header.count), key, SealedStreamFormat.streamKeySize)
        return check
    }

    /// Encrypts and writes one chunk, then fsyncs.
    func append(_ plaintext: [UInt8]) throws {
        try push(plaintext, tag: crypto_secretstream_xchacha20poly1305_tag_message())
    }

    /// Writes the final chunk (possibly empty), fsyncs, closes the file and wipes the key. Returns the
    /// SHA-256 (hex) of the whole file.
    func finish(_ plaintext: [UInt8] = []) throws -> String {
        try push(plaintext, tag: crypto_secretstream_xchacha20poly1305_tag_final())
        return close()
    }

    /// Closes without the final tag (the disk failed, or the agent is stopping hard): what was written
    /// still decrypts as a partial recording. Returns the file's SHA-256 (hex).
    @discardableResult
    func close() -> String {
        guard !closed else { return digest() }
        closed = true
        Glibc.close(descriptor)
        Self.wipe(key, state)
        return digest()
    }

    private var finalDigest: String?

    private func digest() -> String {
        if let finalDigest { return finalDigest }
        var out = [UInt8](repeating: 0, count: 32)
        crypto_hash_sha256_final(&hash, &out)
        let hex = out.map { String(format: "%02x", $0) }.joined()
        finalDigest = hex
        return hex
    }

    private func push(_ plaintext: [UInt8], tag: UInt8) throws {
        precondition(!closed, "the recording is closed")
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + SealedStreamFormat.chunkOverhead)
        var length: UInt64 = 0
        crypto_secretstream_xchacha20poly1305_push(
            state, &ciphertext, &length, plaintext, UInt64(plaintext.count), recordingID,
            UInt64(recordingID.count), tag)
        let size = Int(length)
        let frame =
            [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
            + recordingID + ciphertext[..<size]
        try write(frame)
        chunks += 1
    }

    /// Writes and fsyncs one whole chunk, or leaves the file as it was: a chunk the disk took only part
    /// of is cut off again, so the file always ends at a chunk boundary and its size and hash are what
    /// the row says.
    private func write(_ bytes: [UInt8]) throws {
        var done = 0
        do {
            while done < bytes.count {
                let count = bytes.withUnsafeBytes {
                    Glibc.write(descriptor, $0.baseAddress! + done, bytes.count - done)
                }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw WriteError(path: path, code: count < 0 ? errno : ENOSPC) }
                done += count
            }
            guard fsync(descriptor) == 0 else { throw WriteError(path: path, code: errno) }
        } catch {
            if ftruncate(descriptor, off_t(bytesWritten)) == 0 {
                _ = lseek(descriptor, off_t(bytesWritten), SEEK_SET)
                _ = fsync(descriptor)
            }
            throw error
        }
        crypto_hash_sha256_update(&hash, bytes, UInt64(bytes.count))
        bytesWritten += bytes.count
    }

    private static func wipe(
        _ key: UnsafeMutablePointer<UInt8>, _ state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
    ) {
        sodium_memzero(key, SealedStreamFormat.streamKeySize)
        sodium_memzero(state, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
    }
}
