public import ErrorCodes

/// Why an encrypted recording cannot be read, each with a message a technician can act on.
public typealias RecordingFileError = CodedError<RecordingFileErrorDomain>

/// The domain of ``RecordingFileError``'s codes (never made; it keeps them apart from other errors' codes).
public enum RecordingFileErrorDomain {}

extension RecordingFileError.Code {
    /// The file is something else (its first bytes say what).
    public static var notARecording: Self { Self("not_a_recording") }
    public static var unsupportedVersion: Self { Self("unsupported_version") }
    /// The header is shorter than the format says.
    public static var truncatedHeader: Self { Self("truncated_header") }
    /// A header field was changed after it was written.
    public static var headerAltered: Self { Self("header_altered") }
    /// The private key does not open the recording's sealed key.
    public static var wrongIdentity: Self { Self("wrong_identity") }
    /// The header belongs to another recording than the chunks.
    public static var headerSwapped: Self { Self("header_swapped") }
    /// A chunk fails authentication.
    public static var chunkAltered: Self { Self("chunk_altered") }
    /// The file ends inside a chunk.
    public static var truncated: Self { Self("truncated") }
    /// The chunks end without the final tag: the recording was cut short.
    public static var missingFinalTag: Self { Self("missing_final_tag") }
    /// Bytes follow the final chunk.
    public static var trailingData: Self { Self("trailing_data") }
    /// The identity file cannot be used.
    public static var badIdentity: Self { Self("bad_identity") }
    /// libsodium could not start.
    public static var sodium: Self { Self("sodium") }
}
