public import Logging
import Synchronization

/// Keeps log lines in memory so tests can assert on them, and can hand each message to a stream so
/// a test waits for the line it expects instead of sleeping.
public struct RecordingLogHandler: LogHandler {
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: Logger.Metadata
    }

    /// The lines logged through every handler made from this store.
    public final class Store: Sendable {
        private let entries = Mutex<[Entry]>([])
        private let messages: AsyncStream<String>.Continuation?

        /// - Parameter messages: also receives each message as it is logged.
        public init(messages: AsyncStream<String>.Continuation? = nil) {
            self.messages = messages
        }

        public var all: [Entry] { entries.withLock { $0 } }

        func append(_ entry: Entry) {
            entries.withLock { $0.append(entry) }
            messages?.yield(entry.message)
        }

        public func logger() -> Logger {
            Logger(label: "test") { _ in RecordingLogHandler(store: self) }
        }
    }

    let store: Store
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        store.append(Entry(level: event.level, message: "\(event.message)", metadata: merged))
    }
}
