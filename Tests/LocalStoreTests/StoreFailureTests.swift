import Foundation
import GRDB
import Logging
import TestSupport
import Testing

@testable import LocalStore

@Suite("Store failures")
struct StoreFailureTests {
    @Test("a file that is not a database is refused and left byte for byte as it was")
    func foreignFile() throws {
        let folder = TemporaryFolder()
        let path = folder.file("edge.sqlite")
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect {
            try EdgeDatabase(path: path, logger: Logger(label: "test"))
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .corrupt && error.message.contains(path)
                && error.message.contains("nothing was changed")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test("a database whose pages are damaged is refused and not overwritten")
    func damagedPages() async throws {
        let store = try TestStore()
        try await store.database.write { db in
            for index in 0..<300 {
                try AuditLog.record(
                    actor: "test", action: "fill", entity: "test", entityID: "\(index)",
                    details: ["padding": String(repeating: "y", count: 200)], at: 0, in: db)
            }
        }
        try store.database.close()
        let path = store.folder.file("edge.sqlite")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count > 8192)
        // Scribble over everything after the first page (the header stays valid).
        for index in 4096..<bytes.count { bytes[index] = 0x5A }
        try bytes.write(to: URL(fileURLWithPath: path))

        #expect {
            try EdgeDatabase(path: path, logger: Logger(label: "test"))
        } throws: { ($0 as? StoreError)?.code == .corrupt }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test("a full disk fails the write with a clear error and loses nothing committed")
    func diskFull() async throws {
        let store = try TestStore()
        let book = store.book
        let first = try await book.create(
            .init(
                name: "First", phone: nil, partySize: 2, date: LocalDate("2026-12-08")!, time: LocalTime("19:00")!,
                source: .staff), actor: "test")
        // Cap the file at its current size: the next page SQLite needs is "disk full".
        try await store.database.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count")!
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        let longNotes = String(repeating: "x", count: 64 * 1024)
        await #expect {
            try await book.create(
                .init(
                    name: "Second", phone: nil, partySize: 2, date: LocalDate("2026-12-08")!,
                    time: LocalTime("19:00")!, notes: longNotes, source: .staff), actor: "test")
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .diskFull && error.message.contains("full")
        }
        #expect(try await book.reservation(id: first.id) == first)
        #expect(try await store.count("reservations") == 1)
        #expect(try await store.count("outbox") == 1)
    }

    @Test("a data folder that cannot be created is named in the error")
    func unwritableFolder() throws {
        let folder = TemporaryFolder()
        let blocker = folder.file("not-a-folder")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        #expect {
            try EdgeDatabase(path: blocker + "/data/edge.sqlite", logger: Logger(label: "test"))
        } throws: { ($0 as? StoreError)?.code == .cannotOpen && "\($0)".contains("EDGE_DATA_DIR") }
    }
}
