#if canImport(Glibc)
public import Glibc
#endif

/// Files written whole or not at all, and on the disk when the call returns: the bytes go to a
/// temporary name in the destination's folder, are fsynced, renamed over the destination, and the
/// folder is fsynced so the rename survives a power cut too. A crash leaves either the old file or
/// the new one under the name, never half of one; a failure removes the temporary file.
///
/// The calls block on the disk: run them off event loops and the cooperative pool where that
/// matters (headquarters' folder store does, on NIO's thread pool).
public enum DurableFile {
    /// Writes `bytes` to `path` (created or replaced), with `permissions` when given (else `0644` less
    /// the umask).
    public static func write(_ bytes: [UInt8], to path: String, permissions: mode_t? = nil) throws(DurableFileError) {
        let writer = try Writer(path: path, permissions: permissions)
        do {
            try writer.append(bytes)
        } catch {
            writer.abandon()
            throw error
        }
        // On failure, commit has closed and removed the temporary file itself.
        try writer.commit()
    }

    /// Makes the file already written at `temporary` the file at `path`: fsync, rename over `path`,
    /// fsync the folder. For files another library writes (a SQLite backup copy); `temporary` must
    /// be in `path`'s folder.
    public static func install(_ temporary: String, at path: String) throws(DurableFileError) {
        let descriptor = open(temporary, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw DurableFileError(path: temporary, step: "open", code: errno) }
        let synced = fsync(descriptor)
        let code = errno
        close(descriptor)
        guard synced == 0 else { throw DurableFileError(path: temporary, step: "fsync", code: code) }
        try rename(temporary, to: path)
    }

    /// A file being written under a temporary name: appended to, then committed under its name or
    /// abandoned. A value holding the open descriptor; use it from one task at a time.
    public struct Writer: Sendable {
        /// The name the file gets when committed.
        public let path: String
        /// The temporary name it is written under, in the same folder.
        public let temporary: String
        let descriptor: Int32

        /// Creates the temporary file (the folder must exist), with exactly `permissions` when given,
        /// else `0644` less the umask.
        public init(path: String, permissions: mode_t? = nil) throws(DurableFileError) {
            self.path = path
            temporary =
                DurableFile.folder(of: path) + "/." + DurableFile.lastComponent(of: path) + ".tmp-"
                + DurableFile.randomSuffix()
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions ?? 0o644)
            guard descriptor >= 0 else { throw DurableFileError(path: temporary, step: "create", code: errno) }
            // O_CREAT's mode is masked by the umask; asked-for permissions are set exactly.
            if let permissions { _ = fchmod(descriptor, permissions) }
        }

        /// Appends `bytes`; a full disk is an error (ENOSPC), never a short file.
        public func append(_ bytes: [UInt8]) throws(DurableFileError) {
            var done = 0
            while done < bytes.count {
                let count = bytes.withUnsafeBytes { buffer in
                    Glibc.write(descriptor, buffer.baseAddress! + done, bytes.count - done)
                }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw DurableFileError(path: temporary, step: "write", code: count < 0 ? errno : ENOSPC)
                }
                done += count
            }
        }

        /// Flushes the file to disk and renames it to ``path``. Closes the file either way; on failure
        /// the temporary file is gone too (do not ``abandon()`` after).
        public func commit() throws(DurableFileError) {
            guard fsync(descriptor) == 0 else {
                let code = errno
                abandon()
                throw DurableFileError(path: temporary, step: "fsync", code: code)
            }
            close(descriptor)
            do {
                try DurableFile.rename(temporary, to: path)
            } catch {
                unlink(temporary)
                throw error
            }
        }

        /// Closes and removes the temporary file; ``path`` is untouched.
        public func abandon() {
            close(descriptor)
            unlink(temporary)
        }
    }

    /// Renames `source` over `path` and fsyncs the folder.
    static func rename(_ source: String, to path: String) throws(DurableFileError) {
        guard Glibc.rename(source, path) == 0 else {
            throw DurableFileError(path: path, step: "rename into", code: errno)
        }
        let folder = open(folder(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func lastComponent(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    static func randomSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }
}

/// A durable write that failed: which file, at which step, and the system's reason.
public struct DurableFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    /// `create`, `write`, `fsync`, `open` or `rename into`.
    public let step: String
    public let code: Int32

    public init(path: String, step: String, code: Int32) {
        self.path = path
        self.step = step
        self.code = code
    }

    /// The disk (or the user's quota) is full.
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
    public var description: String { "cannot \(step) \(path): \(String(cString: strerror(code)))" }
}
