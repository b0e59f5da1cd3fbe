import GRDB

extension StoreError {
    /// Translates a SQLite failure at `path` into a store error whose message says what to do.
    static func from(_ error: any Error, path: String) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return StoreError(
                .corrupt,
                "database \(path) is damaged or not a SQLite database (\(error.resultCode)); nothing was changed: "
                    + "stop the agent, move the file aside and restore the last backup, or let a new empty database "
                    + "be created and sync pull the site's data again")
        case .SQLITE_FULL:
            return StoreError(
                .diskFull,
                "the disk holding \(path) is full; the last write was rolled back and nothing committed was lost: "
                    + "free space (old recordings, logs) and try again")
        case .SQLITE_CANTOPEN:
            return StoreError(
                .cannotOpen,
                "cannot open database \(path): check that the folder exists and belongs to the agent's user "
                    + "(EDGE_DATA_DIR)")
        case .SQLITE_READONLY, .SQLITE_PERM:
            return StoreError(
                .readOnly,
                "database \(path) is read-only: check the permissions of the file and its folder (EDGE_DATA_DIR)")
        case .SQLITE_IOERR:
            return StoreError(
                .ioError,
                "the disk failed while reading or writing \(path) (\(error.extendedResultCode)): check the disk "
                    + "with `edge-agent doctor` and the kernel log")
        default:
            return StoreError(.database, "database \(path): \(error.resultCode) \(error.message ?? "")")
        }
    }
}
