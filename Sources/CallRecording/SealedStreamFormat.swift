/// The file format of an encrypted call recording (version 1), so another implementation can read it.
///
/// All integers are big-endian.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `EDGE-REC` |
/// | 8 | 1 | format version, `1` |
/// | 9 | 1 | cipher suite, `1`: libsodium `crypto_box_seal` (X25519) for the key, `crypto_secretstream_xchacha20poly1305` for the audio |
/// | 10 | 16 | recording id (random) |
/// | 26 | 2 | sealed key length `N` (80: the 32-byte stream key plus `crypto_box_SEALBYTES`) |
/// | 28 | N | the stream key sealed to the owner's X25519 public key |
/// | 28+N | 24 | the secretstream header |
/// | 52+N | 16 | header check: BLAKE2b (`crypto_generichash`, 16 bytes) keyed with the stream key over bytes 0 ..< 52+N |
///
/// Then chunks until the end of the file, each: ciphertext length `L` (4 bytes), the recording id
/// again (16 bytes), and `L` bytes of `crypto_secretstream_xchacha20poly1305_push` output whose
/// additional data is the recording id. Every chunk but the last has the tag `MESSAGE`; the last
/// has the tag `FINAL` (and may be empty). The plaintext of the chunks, in order, is an Ogg Opus
/// stream: for the box's own recordings two channels (the caller left, the agent right), 8 kHz input;
/// for an imported Twilio recording the channels as Twilio sent them, named in the Ogg `CHANNELS`
/// comment. A chunk holds about a second
/// of audio and is written and fsynced as it is made, so a crash loses at most about a second: the
/// chunks before it still decrypt, and only the final tag is missing.
public enum SealedStreamFormat {
    public static let magic: [UInt8] = Array("EDGE-REC".utf8)
    public static let version: UInt8 = 1
    public static let cipherSuite: UInt8 = 1
    public static let recordingIDSize = 16
    public static let headerCheckSize = 16
    public static let streamHeaderSize = 24
    public static let streamKeySize = 32
    /// `crypto_box_SEALBYTES`.
    public static let sealOverhead = 48
    /// `crypto_secretstream_xchacha20poly1305_ABYTES`.
    public static let chunkOverhead = 17
    /// The largest chunk a reader accepts (a second of Opus is a few kilobytes).
    public static let maximumChunkSize = 1 << 20

    /// The size of the fixed part before the sealed key.
    static let prefixSize = 8 + 1 + 1 + recordingIDSize + 2
}
