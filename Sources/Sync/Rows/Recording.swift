public import Foundation

/// An encrypted call recording on the box; the audio itself is in a file under the data folder.
public struct Recording: Codable, Sendable, Equatable, Identifiable {
    /// Where a recording stands; raw values are stored in `recordings.state`.
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Being written.
        case recording
        /// Closed with its final tag.
        case complete
        /// Closed after a crash: everything up to the last complete chunk decrypts.
        case partial
        /// The file and the sealed key are gone (retention or erasure).
        case deleted
    }

    /// Who made the recording; raw values are stored in `recordings.source`.
    public enum Source: String, Codable, Sendable, CaseIterable {
        /// The box, from the call's Media Stream.
        case agent
        /// Twilio's own recording of the call, downloaded and sealed on the box.
        case twilio
    }

    public var id: String
    public var callID: String
    /// File name relative to the recordings folder.
    public var fileName: String
    /// The per-recording key sealed to the owner's public key.
    public var sealedKey: Data
    public var state: State
    public var startedAt: Int64
    public var endedAt: Int64?
    public var durationMilliseconds: Int?
    public var sizeBytes: Int?
    /// Lowercase hex SHA-256 of the whole encrypted file.
    public var ciphertextSHA256: String?
    public var version: Int64
    public var source: Source

    public init(
        id: String, callID: String, fileName: String, sealedKey: Data, state: State, startedAt: Int64,
        endedAt: Int64? = nil, durationMilliseconds: Int? = nil, sizeBytes: Int? = nil,
        ciphertextSHA256: String? = nil, version: Int64 = 1, source: Source = .agent
    ) {
        self.source = source
        self.id = id
        self.callID = callID
        self.fileName = fileName
        self.sealedKey = sealedKey
        self.state = state
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.durationMilliseconds = durationMilliseconds
        self.sizeBytes = sizeBytes
        self.ciphertextSHA256 = ciphertextSHA256
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case id
        case callID = "call_id"
        case fileName = "file_name"
        case sealedKey = "sealed_key"
        case state
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case durationMilliseconds = "duration_ms"
        case sizeBytes = "size_bytes"
        case ciphertextSHA256 = "ciphertext_sha256"
        case version
        case source
    }
}
