public import ErrorCodes

/// A failure of the local store, with a message a technician can act on.
///
/// Messages never contain personal data (names, phone numbers): only paths, table names
/// and identifiers.
public typealias StoreError = CodedError<StoreErrorDomain>

/// The domain of ``StoreError``'s codes (never made; it keeps them apart from other errors' codes).
public enum StoreErrorDomain {}

extension StoreError.Code {
    /// The file is not a SQLite database, or its pages are damaged.
    public static var corrupt: Self { Self("corrupt") }
    /// The disk (or the database's size limit) is full.
    public static var diskFull: Self { Self("disk_full") }
    /// The file or its folder cannot be opened or created.
    public static var cannotOpen: Self { Self("cannot_open") }
    /// The file or its folder is read-only.
    public static var readOnly: Self { Self("read_only") }
    /// The disk failed to read or write.
    public static var ioError: Self { Self("io_error") }
    /// The database was written by a newer version of this program.
    public static var newerSchema: Self { Self("newer_schema") }
    /// A seed or import file could not be read.
    public static var invalidSeed: Self { Self("invalid_seed") }
    /// The database was closed (the agent is stopping).
    public static var closed: Self { Self("closed") }
    /// The data folder is in use by another running agent.
    public static var locked: Self { Self("locked") }
    /// Any other SQLite failure.
    public static var database: Self { Self("database") }
}
