/// The recording-upload protocol, every request signed by the box:
///
/// - `POST /v1/recordings/{id}` with a ``RecordingUploadRequest``: opens the upload (or finds the one
///   already open) and answers a ``RecordingUploadStatus``, so a box resumes where it was cut off.
/// - `PUT /v1/recordings/{id}?offset=N` with the next bytes of the encrypted file (at most
///   ``RecordingUploadRequest/maximumPartBytes``): accepted only at the offset headquarters has
///   reached (`409 offset_mismatch` otherwise: ask again and resume).
/// - `POST /v1/recordings/{id}/complete`: headquarters checks the SHA-256 of everything received
///   against the declared one (`422 hash_mismatch` starts the upload over), stores the file and answers
///   the status with `stored` true. Repeating it after that changes nothing.
///
/// The file stays sealed to the owner's key throughout: headquarters never needs the private key.
public struct RecordingUploadRequest: Codable, Sendable, Equatable {
    /// The largest part a box sends in one request.
    public static let maximumPartBytes = 1_048_576

    /// The encrypted file's size.
    public var sizeBytes: Int
    /// Lowercase hex SHA-256 of the encrypted file (the recording row's `ciphertext_sha256`).
    public var sha256: String

    public init(sizeBytes: Int, sha256: String) {
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
    }

    enum CodingKeys: String, CodingKey {
        case sizeBytes = "size_bytes"
        case sha256
    }
}

/// Where an upload stands at headquarters.
public struct RecordingUploadStatus: Codable, Sendable, Equatable {
    /// Bytes received so far: the offset of the next part.
    public var receivedBytes: Int
    public var sizeBytes: Int
    /// The whole file was verified and stored.
    public var stored: Bool

    public init(receivedBytes: Int, sizeBytes: Int, stored: Bool) {
        self.receivedBytes = receivedBytes
        self.sizeBytes = sizeBytes
        self.stored = stored
    }

    enum CodingKeys: String, CodingKey {
        case receivedBytes = "received_bytes"
        case sizeBytes = "size_bytes"
        case stored
    }
}
