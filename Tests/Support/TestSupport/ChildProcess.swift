public import Foundation

/// Runs programs for tests without blocking the cooperative pool: every wait and every blocking read
/// happens on a thread of its own. The pool has two threads on the CI machine, and in-process stand-ins
/// of other tests running at the same time need them to answer in time.
public enum ChildProcess {
    /// How a program ended and what it printed.
    public struct Outcome: Sendable {
        /// The exit status, or the signal's number when it was killed.
        public var status: Int32
        public var standardOutput: String
        public var standardError: String

        /// The last line of standard output ("" when there is none).
        public var lastLine: String { standardOutput.split(separator: "\n").last.map(String.init) ?? "" }

        public init(status: Int32, standardOutput: String, standardError: String) {
            self.status = status
            self.standardOutput = standardOutput
            self.standardError = standardError
        }
    }

    /// The `PATH` a program run by a test sees, whatever the test runner's own is.
    public static let systemPath = "/usr/sbin:/usr/bin:/sbin:/bin"

    /// Runs `executable` to its end and returns what it printed.
    ///
    /// - Parameters:
    ///   - environment: added to a `PATH` of ``systemPath``; nil passes the test runner's environment on.
    ///   - folder: the working directory, when given.
    ///   - input: written to standard input, which is then closed; nil leaves the runner's standard input.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String]? = [:], in folder: String? = nil,
        input: Data? = nil
    ) async throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = ["PATH": systemPath].merging(environment) { $1 } }
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let standardInput = input.map { _ in Pipe() }
        if let standardInput { process.standardInput = standardInput }
        try process.run()
        // Both pipes are read from the start, so a child filling one cannot stall on it; a pipe whose
        // write end another child inherited (spawned at the same moment) ends only when that child does.
        async let outData = ChildOutput.readToEnd(output.fileHandleForReading)
        async let errData = ChildOutput.readToEnd(error.fileHandleForReading)
        if let standardInput, let input {
            let writer = standardInput.fileHandleForWriting
            await ChildOutput.onThread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        }
        await process.exited()
        let (out, err) = await (outData, errData)
        return Outcome(
            status: process.terminationStatus, standardOutput: String(decoding: out, as: UTF8.self),
            standardError: String(decoding: err, as: UTF8.self))
    }
}

extension Process {
    /// Waits for the process to exit on a thread of its own.
    public func exited() async {
        let process = WaitedProcess(process: self)
        await ChildOutput.onThread { process.process.waitUntilExit() }
    }

    /// Kills the process with SIGKILL and waits for it to be gone.
    public func killed() async {
        kill(processIdentifier, SIGKILL)
        await exited()
    }
}

/// Carries a `Process` to the waiting thread.
private struct WaitedProcess: @unchecked Sendable {
    // @unchecked: the waiting thread only calls `waitUntilExit()`, which Foundation documents as
    // callable from any thread; the test does not touch the process until that thread resumes it.
    let process: Process
}
