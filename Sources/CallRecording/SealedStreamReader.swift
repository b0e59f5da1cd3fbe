import CSodium
import Foundation

/// Decrypts a recording file (``SealedStreamFormat``) with the owner's key pair, checking everything:
/// the header, that the header and chunks belong together, every chunk's authentication, and the
/// final tag. Nothing is returned unless the whole file checks, except that a recording closed as
/// partial (after a crash) may be read up to its last complete chunk when the caller allows it.
public enum SealedStreamReader {
    /// What a decryption produced.
    public struct Plaintext: Sendable {
        /// The Ogg Opus stream.
        public var bytes: [UInt8]
        /// Chunks decrypted.
        public var chunks: Int
        /// The final tag was there; false for a partial recording read up to its last complete chunk.
        public var complete: Bool
        /// The recording id from the header.
        public var recordingID: [UInt8]
    }

    /// Decrypts `file`. With `allowPartial`, a file that ends at or inside a chunk without the final
    /// tag yields the chunks before; otherwise that is an error.
    public static func decrypt(_ file: [UInt8], identity: RecordingIdentity, allowPartial: Bool = false) throws
        -> Plaintext
    {
        guard sodium_init() >= 0 else { throw RecordingFileError(.sodium, "libsodium could not start") }
        let magic = SealedStreamFormat.magic
        guard file.count >= magic.count, Array(file[..<magic.count]) == magic else {
            throw RecordingFileError(
                .notARecording, "this is not an edge-agent recording: \(describe(file)); nothing was written")
        }
        guard file.count > SealedStreamFormat.prefixSize else {
            throw RecordingFileError(.truncatedHeader, "the recording's header is cut short")
        }
        guard file[8] == SealedStreamFormat.version, file[9] == SealedStreamFormat.cipherSuite else {
            throw RecordingFileError(
                .unsupportedVersion,
                "recording format version \(file[8]) (cipher suite \(file[9])) is not known to this edge-agent; "
                    + "use a newer one")
        }
        let idRange = 10..<(10 + SealedStreamFormat.recordingIDSize)
        let recordingID = Array(file[idRange])
        let sealedLength = Int(file[idRange.upperBound]) << 8 | Int(file[idRange.upperBound + 1])
        let sealedStart = SealedStreamFormat.prefixSize
        let streamHeaderStart = sealedStart + sealedLength
        let checkStart = streamHeaderStart + SealedStreamFormat.streamHeaderSize
        let headerEnd = checkStart + SealedStreamFormat.headerCheckSize
        guard sealedLength == SealedStreamFormat.streamKeySize + SealedStreamFormat.sealOverhead else {
            throw RecordingFileError(.headerAltered, "the recording's header was altered (sealed key length)")
        }
        guard file.count >= headerEnd else {
            throw RecordingFileError(.truncatedHeader, "the recording's header is cut short")
        }

        // The key.
        let key = UnsafeMutablePointer<UInt8>.allocate(capacity: SealedStreamFormat.streamKeySize)
        let state = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
        defer {
            sodium_memzero(key, SealedStreamFormat.streamKeySize)
            sodium_memzero(state, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
            key.deallocate()
            state.deallocate()
        }
        let sealed = Array(file[sealedStart..<streamHeaderStart])
        let opened = identity.withSecretKey { secret in
            crypto_box_seal_open(key, sealed, UInt64(sealed.count), identity.publicKey, secret)
        }
        guard opened == 0 else {
            throw RecordingFileError(
                .wrongIdentity,
                "this identity does not open the recording's key: the wrong private key, or the sealed key in the "
                    + "header is damaged")
        }
        let expectedCheck = SealedStreamWriter.headerCheck(Array(file[..<checkStart]), key: key)
        guard sodium_memcmp(expectedCheck, Array(file[checkStart..<headerEnd]), expectedCheck.count) == 0 else {
            throw RecordingFileError(.headerAltered, "the recording's header was altered after it was written")
        }
        let streamHeader = Array(file[streamHeaderStart..<checkStart])
        guard crypto_secretstream_xchacha20poly1305_init_pull(state, streamHeader, key) == 0 else {
            throw RecordingFileError(.headerAltered, "the recording's stream header is not valid")
        }

        // The chunks.
        var plaintext: [UInt8] = []
        var offset = headerEnd
        var chunk = 0
        let frameHeader = 4 + SealedStreamFormat.recordingIDSize
        while true {
            if offset == file.count {
                guard allowPartial else {
                    throw RecordingFileError(
                        .missingFinalTag,
                        "the recording has no final tag: it was cut short after \(chunk) chunks (a crash or a "
                            + "truncated copy); nothing was written")
                }
                return Plaintext(bytes: plaintext, chunks: chunk, complete: false, recordingID: recordingID)
            }
            guard file.count - offset >= frameHeader else {
                if allowPartial {
                    return Plaintext(bytes: plaintext, chunks: chunk, complete: false, recordingID: recordingID)
                }
                throw RecordingFileError(.truncated, "the recording ends inside chunk \(chunk); nothing was written")
            }
            let length = file[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let chunkID = Array(file[(offset + 4)..<(offset + frameHeader)])
            guard chunkID == recordingID else {
                throw RecordingFileError(
                    .headerSwapped,
                    "chunk \(chunk) belongs to another recording than the header (a swapped or pasted header)")
            }
            guard length >= SealedStreamFormat.chunkOverhead, length <= SealedStreamFormat.maximumChunkSize else {
                throw RecordingFileError(.chunkAltered, "chunk \(chunk) has an impossible length: the file was altered")
            }
            let start = offset + frameHeader
            guard file.count - start >= length else {
                if allowPartial {
                    return Plaintext(bytes: plaintext, chunks: chunk, complete: false, recordingID: recordingID)
                }
                throw RecordingFileError(.truncated, "the recording ends inside chunk \(chunk); nothing was written")
            }
            let ciphertext = Array(file[start..<(start + length)])
            var message = [UInt8](repeating: 0, count: length - SealedStreamFormat.chunkOverhead)
            var messageLength: UInt64 = 0
            var tag: UInt8 = 0
            guard
                crypto_secretstream_xchacha20poly1305_pull(
                    state, &message, &messageLength, &tag, ciphertext, UInt64(length), recordingID,
                    UInt64(recordingID.count)) == 0
            else {
                throw RecordingFileError(
                    .chunkAltered, "chunk \(chunk) fails authentication: the file was altered or damaged there")
            }
            plaintext += message[..<Int(messageLength)]
            offset = start + length
            chunk += 1
            if tag == crypto_secretstream_xchacha20poly1305_tag_final() {
                guard offset == file.count else {
                    throw RecordingFileError(.trailingData, "bytes follow the recording's final chunk")
                }
                return Plaintext(bytes: plaintext, chunks: chunk, complete: true, recordingID: recordingID)
            }
        }
    }

    /// What the first bytes of a file that is not a recording say it is.
    static func describe(_ file: [UInt8]) -> String {
        let known: [(String, String)] = [
            ("OggS", "an Ogg file (an unencrypted recording?)"), ("SQLite format 3", "a SQLite database"),
            ("RIFF", "a WAV file"), ("EPC1", "a phrase cache file"),
            ("edge-agent recording identity", "an identity (private key) file"),
            ("{", "a JSON file"), ("ID3", "an MP3 file"),
        ]
        for (prefix, name) in known where file.starts(with: Array(prefix.utf8)) { return "it is \(name)" }
        if file.isEmpty { return "the file is empty" }
        let shown = file.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        return "it starts with \(shown)"
    }
}
