/// Why an encrypted recording cannot be read, each with a message a technician can act on.
public struct RecordingFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong; extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let value: String
        private init(_ value: String) { self.value = value }

        /// The file is something else (its first bytes say what).
        public static let notARecording = Code("not_a_recording")
        public static let unsupportedVersion = Code("unsupported_version")
        /// The header is shorter than the format says.
        public static let truncatedHeader = Code("truncated_header")
        /// A header field was changed after it was written.
        public static let headerAltered = Code("header_altered")
        /// The private key does not open the recording's sealed key.
        public static let wrongIdentity = Code("wrong_identity")
        /// The header belongs to another recording than the chunks.
        public static let headerSwapped = Code("header_swapped")
        /// A chunk fails authentication.
        public static let chunkAltered = Code("chunk_altered")
        /// The file ends inside a chunk.
        public static let truncated = Code("truncated")
        /// The chunks end without the final tag: the recording was cut short.
        public static let missingFinalTag = Code("missing_final_tag")
        /// Bytes follow the final chunk.
        public static let trailingData = Code("trailing_data")
        /// The identity file cannot be used.
        public static let badIdentity = Code("bad_identity")
        /// libsodium could not start.
        public static let sodium = Code("sodium")

        public var description: String { value }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
