import Foundation
public import GRDB
public import Logging
import Synchronization

/// The box's SQLite database: one WAL-mode pool, its schema, and the clock its rows are stamped with.
///
/// Repositories (``ReservationBook``, ``CallLog``, ``MenuCatalog``, ...) are built over it and
/// expose the named operations the rest of the application uses.
public final class EdgeDatabase: Sendable {
    /// The file name of the database inside the data folder.
    public static let fileName = "edge.sqlite"

    /// GRDB's pool: one writer, concurrent readers.
    public let pool: DatabasePool
    /// The path of the database file.
    public let path: String
    /// Where rows get their timestamps.
    public let clock: any WallClock
    /// Set by ``close()``; accesses after it fail with ``StoreError/Code/closed`` instead of reaching
    /// SQLite with a closed connection.
    private let closed = Mutex(false)

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    ///
    /// Never overwrites or deletes an existing file: a damaged one fails with ``StoreError/Code/corrupt``.
    public init(path: String, clock: any WallClock = SystemWallClock(), logger: Logger) throws {
        self.path = path
        self.clock = clock
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                .cannotOpen,
                "cannot create the data folder \(folder): check EDGE_DATA_DIR and that it belongs to the agent's user")
        }
        try Self.refuseForeignFile(at: path)

        var configuration = Configuration()
        configuration.label = "edge"
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // WAL with synchronous=FULL fsyncs the WAL at every commit. With NORMAL, a commit survives a
            // process crash but the last ones may vanish in a power cut; a booking the caller has heard
            // confirmed must survive both. The box commits a few rows per call turn, so the extra fsync
            // costs nothing that matters.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in
                let problems = try String.fetchAll(db, sql: "PRAGMA quick_check(1)")
                guard problems == ["ok"] else {
                    throw StoreError(
                        .corrupt,
                        "database \(path) failed its integrity check; nothing was changed: stop the agent, move the "
                            + "file aside and restore the last backup")
                }
                if try Self.migrator.hasBeenSuperseded(db) {
                    throw StoreError(
                        .newerSchema,
                        "database \(path) was written by a newer edge-agent; install that version again or restore "
                            + "a backup made by this one")
                }
            }
            try Self.migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.from(error, path: path)
        }
        logger.debug("database ready", metadata: ["db.path": "\(path)"])
    }

    /// Opens `edge.sqlite` inside `dataDirectory`.
    public convenience init(dataDirectory: String, clock: any WallClock = SystemWallClock(), logger: Logger) throws {
        try self.init(
            path: (dataDirectory as NSString).appendingPathComponent(Self.fileName), clock: clock, logger: logger)
    }

    /// Runs `body` in one write transaction, translating SQLite failures into ``StoreError``s.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try requireOpen()
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError {
            throw StoreError.from(error, path: path)
        }
    }

    /// Runs `body` on a read-only snapshot, translating SQLite failures into ``StoreError``s.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try requireOpen()
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw StoreError.from(error, path: path)
        }
    }

    /// Checkpoints the WAL and closes every connection; later accesses fail. Closing twice does nothing.
    public func close() throws {
        let alreadyClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !alreadyClosed else { return }
        do {
            _ = try pool.writeWithoutTransaction { db in
                try db.checkpoint(.truncate)
            }
            try pool.close()
        } catch {
            throw StoreError.from(error, path: path)
        }
    }

    private func requireOpen() throws {
        if closed.withLock({ $0 }) {
            throw StoreError(.closed, "database \(path) is closed: the agent is stopping")
        }
    }

    /// Fails for an existing, non-empty file that does not start with SQLite's header, before SQLite
    /// gets a chance to write anything into it.
    private static func refuseForeignFile(at path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        guard !header.isEmpty else { return }
        guard header == Data("SQLite format 3\0".utf8) else {
            throw StoreError(
                .corrupt,
                "database \(path) is not a SQLite database (wrong header); nothing was changed: move the file aside "
                    + "and restore the last backup")
        }
    }
}
