import ArgumentParser
import CallSimulator
import EdgeAgent
import Foundation
import Logging

/// `edge-agent demo`: a whole call against an in-process agent, with no accounts and no network.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Place a simulated call against an agent started in this process, and show what was said and stored.",
        discussion: """
            The agent runs on a free loopback port with a temporary data folder; the LLM, speech-to-text and \
            ElevenLabs are local stand-ins speaking their real wire formats; the caller's voice is espeak-ng. \
            With --calls N, N callers call at once and the latency and pacing figures are printed.
            """
    )

    @Option(name: .long, help: "How many simulated callers call at once.")
    var calls = 1

    @Flag(
        name: .long,
        help: "Run the callers in a second process (edge-agent simulate), so the figures here are the agent's own.")
    var separateCallers = false

    @Flag(name: .long, help: "Record every call (notice first), encrypted to a throwaway owner key.")
    var record = false

    func validate() throws {
        guard (1...500).contains(calls) else { throw ValidationError("--calls must be from 1 to 500") }
    }

    func run() async throws {
        var logger = Logger(label: "demo")
        logger.logLevel = .warning
        let summary: DemoRunner.Summary
        do {
            summary = try await DemoRunner(logger: logger).run(
                calls: calls,
                externalCallers: separateCallers
                    ? DemoRunner.callersInChildProcess(URL(fileURLWithPath: CommandLine.arguments[0])) : nil,
                record: record
            ) { line in print(line) }
        } catch {
            throw fail("the demo failed: \(error)", code: 1)
        }
        if let miscount = summary.miscount {
            throw fail("the demo did not carry out each request once: \(miscount)", code: 1)
        }
        if record && summary.completeRecordings < summary.calls {
            throw fail("not every demo call was recorded completely", code: 1)
        }
    }
}
