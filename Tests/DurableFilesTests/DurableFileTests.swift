import Foundation
import TestSupport
import Testing

@testable import DurableFiles

/// Whole files or none: what is on disk after a write, a replacement, a failure and an abandoned
/// writer.
@Suite("Durable files")
struct DurableFileTests {
    static func contents(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    @Test("a write creates the file with its bytes and permissions, a second replaces it, nothing else is left")
    func writeAndReplace() throws {
        let temporary = TemporaryFolder(prefix: "durable")
        let folder = temporary.path
        let path = folder + "/key.bin"
        try DurableFile.write([1, 2, 3], to: path, permissions: 0o600)
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try DurableFile.write([9, 8], to: path)
        #expect(FileManager.default.contents(atPath: path) == Data([9, 8]))
        #expect(try Self.contents(folder) == ["key.bin"])
    }

    @Test("a writer fed in parts commits the whole file; an abandoned one leaves the old file and no temporary")
    func writerParts() throws {
        let temporary = TemporaryFolder(prefix: "durable")
        let folder = temporary.path
        let path = folder + "/recording.sealed"
        try DurableFile.write([7], to: path)
        let abandoned = try DurableFile.Writer(path: path)
        try abandoned.append([1, 2])
        #expect(try Self.contents(folder).count == 2)
        abandoned.abandon()
        #expect(FileManager.default.contents(atPath: path) == Data([7]))
        #expect(try Self.contents(folder) == ["recording.sealed"])

        let writer = try DurableFile.Writer(path: path)
        for part in 0..<3 { try writer.append([UInt8](repeating: UInt8(part), count: 1000)) }
        // Until committed, the old file is what readers see.
        #expect(FileManager.default.contents(atPath: path) == Data([7]))
        try writer.commit()
        let written = try #require(FileManager.default.contents(atPath: path))
        #expect(written.count == 3000)
        #expect(Array(written[1000..<2000]) == [UInt8](repeating: 1, count: 1000))
        #expect(try Self.contents(folder) == ["recording.sealed"])
    }

    @Test("a folder that does not exist: a clear error naming the file and the step, nothing written")
    func missingFolder() throws {
        let temporary = TemporaryFolder(prefix: "durable")
        let folder = temporary.path
        let error = #expect(throws: DurableFileError.self) {
            try DurableFile.write([1], to: folder + "/absent/file.bin")
        }
        #expect(error?.step == "create")
        #expect(error?.description.contains("No such file or directory") == true)
        #expect(try Self.contents(folder).isEmpty)
    }

    @Test("a full disk is an error and leaves no file behind (/dev/full)")
    func fullDisk() throws {
        // /dev/full answers every write with ENOSPC; a writer's temporary file cannot live there, so
        // the append is exercised through a descriptor opened on it.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let temporary = TemporaryFolder(prefix: "durable")
        let folder = temporary.path
        let writer = try DurableFile.Writer(path: folder + "/file.bin")
        let full = open("/dev/full", O_WRONLY)
        #expect(full >= 0)
        #expect(dup2(full, writer.descriptor) >= 0)
        close(full)
        let error = #expect(throws: DurableFileError.self) { try writer.append([UInt8](repeating: 1, count: 10)) }
        #expect(error?.isDiskFull == true)
        writer.abandon()
        #expect(try Self.contents(folder).isEmpty)
    }

    @Test("install makes a file written elsewhere the file at a name, replacing the old one")
    func install() throws {
        let temporary = TemporaryFolder(prefix: "durable")
        let folder = temporary.path
        try Data([1]).write(to: URL(fileURLWithPath: folder + "/backup.sqlite"))
        try Data([2, 2]).write(to: URL(fileURLWithPath: folder + "/.backup.partial"))
        try DurableFile.install(folder + "/.backup.partial", at: folder + "/backup.sqlite")
        #expect(FileManager.default.contents(atPath: folder + "/backup.sqlite") == Data([2, 2]))
        #expect(try Self.contents(folder) == ["backup.sqlite"])
        #expect(throws: DurableFileError.self) { try DurableFile.install(folder + "/absent", at: folder + "/x") }
    }
}
