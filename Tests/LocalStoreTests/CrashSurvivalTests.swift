import Foundation
import GRDB
import Logging
import TestSupport
import Testing

@testable import LocalStore

/// The database survives kill -9 at any moment: a child process writes reservations as fast as it
/// can and is killed mid-stream, several times over; every reservation whose commit it reported is
/// there afterwards with its outbox row, and SQLite's integrity check passes.
@Suite("Crash survival")
struct CrashSurvivalTests {
    /// The helper built beside the test bundle (Tests/Support/StoreCrashWriter).
    static var writerURL: URL { BuiltProgram.url("store-crash-writer") }

    @Test("kill -9 while writing loses no committed reservation and leaves a sound file")
    func killNine() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.writerURL.path), "build store-crash-writer first")
        let folder = TemporaryFolder()
        let path = folder.file("edge.sqlite")
        var committed: [String] = []
        // Each round kills the writer after a different number of commits.
        for killAfter in [25, 60, 7] {
            committed += try await runAndKill(databasePath: path, afterCommits: killAfter)

            let database = try EdgeDatabase(path: path, logger: Logger(label: "test"))
            let (integrity, reservationIDs, outboxIDs) = try await database.read { db in
                (
                    try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                    Set(try String.fetchAll(db, sql: "SELECT id FROM reservations")),
                    Set(try String.fetchAll(db, sql: "SELECT row_id FROM outbox WHERE table_name = 'reservations'"))
                )
            }
            try database.close()
            #expect(integrity == ["ok"])
            let missing = committed.filter { !reservationIDs.contains($0) }
            #expect(missing.isEmpty, "committed reservations lost: \(missing.count)")
            // Rows and outbox rows commit together: every reservation has its outbox row, and the other way round.
            #expect(reservationIDs == outboxIDs)
        }
        #expect(committed.count >= 92)
    }

    /// Starts the writer, waits for `count` commit lines, kills it with SIGKILL, and returns every id it
    /// reported (including lines that arrived after the count was reached).
    private func runAndKill(databasePath: String, afterCommits count: Int) async throws -> [String] {
        let process = Process()
        process.executableURL = Self.writerURL
        process.arguments = [databasePath]
        let output = Pipe()
        process.standardOutput = output
        try process.run()

        let handle = output.fileHandleForReading
        var buffer = try await ChildOutput.read(handle) { data in
            data.split(separator: UInt8(ascii: "\n")).count >= count
        }
        await process.killed()
        #expect(process.terminationReason == .uncaughtSignal)
        buffer.append(handle.readDataToEndOfFile())
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("committed ") && $0.count == "committed ".count + 36 }
            .map { String($0.dropFirst("committed ".count)) }
    }
}
