import ArgumentParser
import CallSimulator
import EdgeAgent
import Foundation
import Logging

/// `edge-agent simulate`: calls a running agent exactly as Twilio would.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a running agent as Twilio would: signed webhook, Media Stream, paced audio, DTMF, hang-up.",
        discussion: """
            Each --say (spoken by espeak-ng) or --audio (raw 8 kHz mu-law, or WAV) is one thing the caller says, \
            in order; the simulator waits for the agent to answer each. --dtmf presses keys at the end. \
            With --calls N, N calls run at once and latency and pacing percentiles are printed.
            """
    )

    @Option(name: .long, help: "Where the agent listens.")
    var url = "http://127.0.0.1:8080"

    @Option(name: .long, help: "The agent's EDGE_PUBLIC_URL (signatures are computed against it); defaults to --url.")
    var publicURL: String?

    @Option(name: .long, help: "The Twilio auth token the agent checks signatures with (default: TWILIO_AUTH_TOKEN).")
    var authToken: String?

    @Option(name: .long, help: "Something the caller says (repeatable).")
    var say: [String] = []

    @Option(name: .long, help: "A file of caller audio (repeatable).")
    var audio: [String] = []

    @Option(name: .long, help: "Language of --say: en or es.")
    var language = "en"

    @Option(name: .long, help: "Keys to press after speaking, for example 1#.")
    var dtmf: String?

    @Option(name: .long, help: "Calls at once.")
    var calls = 1

    @Option(name: .long, help: "Seconds over which the calls' starts are spread.")
    var spread = 0.0

    @Option(name: .long, help: "The caller's number; with --calls, each further caller has the next number up.")
    var from = "+15550100001"

    @Option(name: .long, help: "The number called.")
    var to = "+15557654321"

    /// `number` with `offset` added to its digits (`+15550100001` plus 2 is `+15550100003`), so that
    /// simultaneous callers are different people, as they are on a real line.
    static func number(_ number: String, plus offset: Int) -> String {
        guard offset > 0, number.hasPrefix("+"), let value = UInt64(number.dropFirst()) else { return number }
        return "+" + String(value + UInt64(offset))
    }

    func validate() throws {
        guard (1...500).contains(calls) else { throw ValidationError("--calls must be from 1 to 500") }
        guard URL(string: url)?.host != nil else { throw ValidationError("--url is not a URL") }
        guard ["en", "es"].contains(language) else { throw ValidationError("--language must be en or es") }
    }

    func run() async throws {
        guard let token = authToken ?? ProcessInfo.processInfo.environment["TWILIO_AUTH_TOKEN"] else {
            throw fail("give --auth-token or set TWILIO_AUTH_TOKEN (the agent refuses unsigned webhooks)", code: 2)
        }
        var steps: [CallScript.Step] = [.waitForAgent(timeout: .seconds(10))]
        do {
            for text in say {
                steps += [.say(try CallerVoice.speak(text, language: language)), .waitForAgent(timeout: .seconds(20))]
            }
            for path in audio {
                steps += [.say(try CallerVoice.load(path: path)), .waitForAgent(timeout: .seconds(20))]
            }
        } catch {
            throw fail("\(error)", code: 2)
        }
        if let dtmf {
            steps += dtmf.map { .press(String($0)) } + [.waitForAgent(timeout: .seconds(20))]
        }
        steps.append(.hangUp)
        let script = CallScript(steps)
        var logger = Logger(label: "simulate")
        logger.logLevel = .warning
        let simulator = CallSimulator(
            agentURL: URL(string: url)!, publicURL: URL(string: publicURL ?? url)!, authToken: token, logger: logger)
        let base = UInt64.random(in: 0..<(UInt64.max / 2))
        let reports: [CallReport]
        do {
            reports = try await withThrowingTaskGroup(of: CallReport.self) { group in
                for index in 0..<calls {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(Int(spread * 1000) * index / calls))
                        return try await simulator.call(
                            callSid: "CA" + String(format: "%016llx%016llx", base, UInt64(index)),
                            from: Self.number(from, plus: index), to: to,
                            script: script)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        } catch {
            throw fail("the simulated call failed: \(error)", code: 1)
        }
        for (index, report) in reports.enumerated() where calls == 1 || index < 3 {
            print(
                "call \(report.callID ?? "?"): heard \(report.agentAudioBytes / 8) ms of agent audio, marks \(report.marksEchoed)/\(report.marksSent), clears \(report.clears), \(report.agentHungUp ? "agent hung up" : "caller hung up")"
            )
        }
        if let latency = Percentiles(reports.flatMap(\.responseLatencies)) { print("response latency: \(latency)") }
        if let pacing = Percentiles(reports.flatMap(\.pacingErrors)) { print("frame pacing error: \(pacing)") }
        let timeouts = reports.reduce(0) { $0 + $1.timeouts }
        if timeouts > 0 { throw fail("\(timeouts) waits for the agent timed out", code: 1) }
    }
}
