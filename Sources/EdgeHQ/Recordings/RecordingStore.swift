public import NIOCore

/// Where headquarters keeps recording files once verified: a folder (``FolderRecordingStore``) or an
/// S3-compatible bucket (``S3RecordingStore``). Files arrive and stay sealed to the owner's key.
public protocol RecordingStore: Sendable {
    /// Stores `size` bytes read from `parts` under `key`, replacing anything there, and returns where
    /// (for `recording_uploads.location`). `sha256` is the verified hash of those bytes. Nothing is
    /// visible under `key` until the whole file is.
    func put(key: String, size: Int, sha256: String, parts: RecordingParts) async throws -> String
    /// The stored file, whole (for checks and owners' downloads; recordings are small), or nil.
    func get(key: String) async throws -> [UInt8]?
    /// Deletes the file under `key`; deleting a missing file is not an error.
    func delete(key: String) async throws
}

/// The bytes of one upload, part after part, read from PostgreSQL one part per `next()`, so a file
/// is never held in memory whole. It can be iterated more than once (to hash, then to store).
public struct RecordingParts: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    /// The part at or after an offset, and the offset after it; nil when there are no more.
    let fetch: @Sendable (Int) async throws -> (ByteBuffer, Int)?

    public init(fetch: @escaping @Sendable (Int) async throws -> (ByteBuffer, Int)?) {
        self.fetch = fetch
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let fetch: @Sendable (Int) async throws -> (ByteBuffer, Int)?
        var offset = 0
        var finished = false

        public mutating func next() async throws -> ByteBuffer? {
            guard !finished, let (part, next) = try await fetch(offset) else {
                finished = true
                return nil
            }
            offset = next
            return part
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fetch: fetch) }
}

/// A store that could not take, give back or delete a file; the message says which and why, and
/// never holds credentials.
public struct RecordingStoreError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
