public import Foundation

/// Reads what a child process prints. Reads from a pipe block, so each runs on a thread of its own.
public enum ChildOutput {
    /// The output ended before what was waited for arrived.
    public struct Ended: Error, CustomStringConvertible {
        /// What had arrived by then.
        public let received: String
        public var description: String {
            "the child's output ended before the line waited for; it printed: \(received)"
        }
    }

    /// Runs `work` on a new thread and resumes when it is done.
    public static func onThread<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }

    /// Reads `handle` to its end.
    public static func readToEnd(_ handle: FileHandle) async -> Data {
        await onThread { handle.readDataToEndOfFile() }
    }

    /// Reads `handle` until `done` says enough has arrived; throws ``Ended`` if it ends first.
    public static func read(_ handle: FileHandle, until done: @escaping @Sendable (Data) -> Bool) async throws -> Data {
        let result: Result<Data, Ended> = await onThread {
            var data = Data()
            while !done(data) {
                let chunk = handle.availableData
                if chunk.isEmpty { return .failure(Ended(received: String(decoding: data, as: UTF8.self))) }
                data.append(chunk)
            }
            return .success(data)
        }
        return try result.get()
    }

    /// The first line `handle` gives, without its newline.
    public static func firstLine(_ handle: FileHandle) async throws -> String {
        let data = try await read(handle) { $0.contains(UInt8(ascii: "\n")) }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
    }

    /// Reads `handle` line by line until `match` finds a value in a whole line, and returns it; nil
    /// when the output ends first. Reading goes on after the match, to the end, so that the child never
    /// blocks on a full pipe.
    public static func watch<Value: Sendable>(
        _ handle: FileHandle, for match: @escaping @Sendable (Substring) -> Value?
    ) async -> Value? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = ""
                var answered = false
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    guard !answered else { continue }
                    text += String(decoding: data, as: UTF8.self)
                    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                    if let value = lines.lazy.compactMap(match).first {
                        continuation.resume(returning: value)
                        answered = true
                    }
                }
                if !answered { continuation.resume(returning: nil) }
            }
        }
    }
}
