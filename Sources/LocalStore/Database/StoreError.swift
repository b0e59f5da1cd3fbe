import Foundation

/// A failure of the local store, with a message a technician can act on.
///
/// Messages never contain personal data (names, phone numbers): only paths, table names
/// and identifiers.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure it is; extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let value: String
        private init(_ value: String) { self.value = value }

        /// The file is not a SQLite database, or its pages are damaged.
        public static let corrupt = Code("corrupt")
        /// The disk (or the database's size limit) is full.
        public static let diskFull = Code("disk_full")
        /// The file or its folder cannot be opened or created.
        public static let cannotOpen = Code("cannot_open")
        /// The file or its folder is read-only.
        public static let readOnly = Code("read_only")
        /// The disk failed to read or write.
        public static let ioError = Code("io_error")
        /// The database was written by a newer version of this program.
        public static let newerSchema = Code("newer_schema")
        /// A seed or import file could not be read.
        public static let invalidSeed = Code("invalid_seed")
        /// The database was closed (the agent is stopping).
        public static let closed = Code("closed")
        /// The data folder is in use by another running agent.
        public static let locked = Code("locked")
        /// Any other SQLite failure.
        public static let database = Code("database")

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
