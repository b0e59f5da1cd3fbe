import AsyncHandoff
import AudioIO
import CallRecording
public import EdgeAgent
public import Foundation
import GRDB
public import Hummingbird
import HummingbirdWebSocket
import LocalStore
public import Logging
import ServiceLifecycle
import Sync
import Synchronization

/// `edge-agent demo`: an agent in this process on a free loopback port with a temporary data folder,
/// the cloud services stood in for by ``DemoCloud``, and simulated callers booking a table.
public struct DemoRunner: Sendable {
    /// What the demo observed.
    public struct Summary: Sendable {
        public var calls = 0
        public var completedCalls = 0
        public var reservations = 0
        public var responseLatency: Percentiles?
        public var pacingError: Percentiles?
        /// Per agent turn: from the final transcript to the first outbound frame (what the agent adds).
        public var agentLatency: Percentiles?
        /// Per call: the latest any outbound frame left after its deadline, at the agent's pacer.
        public var worstFrameLateness: Percentiles?
        /// CPU time of this whole process (agent, simulated callers and stand-ins) over wall time, per core.
        public var cpuShare: Double?
        public var timeouts = 0
        /// With recording on: recordings closed complete, and all recordings.
        public var completeRecordings = 0
        public var recordings = 0
        /// Tables the callers asked for (one a call), against ``reservations`` stored.
        public var bookingsRequested = 0
        /// Lines the callers said, against the caller turns stored and the agent answers to them.
        public var callerLines = 0
        public var callerTurns = 0
        public var answeredTurns = 0

        /// What the run got wrong, or nil when every request was carried out once and every line
        /// answered once. A run that gets these wrong measured a wrong result: it is a failure, not a figure.
        public var miscount: String? {
            var wrong: [String] = []
            if reservations != bookingsRequested {
                wrong.append("\(reservations) reservations stored for \(bookingsRequested) bookings requested")
            }
            if callerTurns != callerLines {
                wrong.append("\(callerTurns) caller turns heard for \(callerLines) lines said")
            }
            if answeredTurns != callerLines {
                wrong.append("\(answeredTurns) turns answered for \(callerLines) caller lines")
            }
            return wrong.isEmpty ? nil : wrong.joined(separator: "; ")
        }
    }

    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Places the calls from somewhere else (another process), given the agent's address, its public
    /// URL, the webhook token, the caller's lines and the number of calls; returns that caller's report.
    public typealias ExternalCallers = @Sendable (URL, URL, String, [String], Int) async throws -> String

    /// Callers in a child process: `edge-agent simulate` of the `edge-agent` binary at `executable`,
    /// spreading the calls over three seconds; returns its report.
    public static func callersInChildProcess(_ executable: URL) -> ExternalCallers {
        { agentURL, publicURL, token, lines, calls in
            let process = Process()
            process.executableURL = executable
            process.arguments =
                [
                    "simulate", "--url", agentURL.absoluteString, "--public-url", publicURL.absoluteString, "--calls",
                    String(calls), "--spread", "3",
                ] + lines.flatMap { ["--say", $0] }
            // The token goes by environment, not on a command line other users can read.
            process.environment = ProcessInfo.processInfo.environment.merging(["TWILIO_AUTH_TOKEN": token]) { $1 }
            let output = Pipe()
            process.standardOutput = output
            return try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { finished in
                    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    if finished.terminationStatus == 0 {
                        continuation.resume(returning: text)
                    } else {
                        continuation.resume(
                            throwing: CallSimulator.Failure(description: "the callers' process failed: \(text)"))
                    }
                }
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs `calls` simulated calls at once; `print` receives the report, line by line. With
    /// `externalCallers`, the callers run there (so the figures measured here are the agent's alone).
    /// With `record`, every call is recorded (notice first) to a throwaway owner key.
    ///
    /// `prepare` runs on the agent once it is up, before any call; `alongside` runs on it while the calls
    /// are made (a sync drain, for the benchmark of pacing under sync), and its line is printed.
    public func run(
        calls: Int, externalCallers: ExternalCallers? = nil, record: Bool = false,
        prepare: (@Sendable (EdgeAgentApp) async throws -> Void)? = nil,
        alongside: (@Sendable (EdgeAgentApp) async throws -> String)? = nil,
        print: @escaping @Sendable (String) -> Void
    ) async throws -> Summary {
        let lines = try Self.callerAudio(print: print)
        let durations = lines.map { audio in
            Double(
                MuLawFrame.frames(from: audio).filter { $0.bytes.contains { abs(Int(MuLaw.decode($0))) > 1500 } }.count)
                * 0.02
        }
        let zone = TimeZone(identifier: "America/New_York")!
        let tomorrow = LocalDate(Date(), in: zone).adding(days: 1).description
        let startedCPU = Self.cpuSeconds()
        let startedWall = ContinuousClock.now
        let cloudRouter = Router()
        DemoCloud(lineDurations: durations, tomorrow: tomorrow).register(on: cloudRouter)

        let folder = NSTemporaryDirectory() + "edge-agent-demo-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let authToken = UUID().uuidString

        return try await Self.serve(cloudRouter, logger: logger) { cloudURL in
            var configuration = AgentConfiguration()
            configuration.dataDirectory = folder
            configuration.http.port = 0
            configuration.publicURL = URL(string: "https://demo.agent.invalid")!
            configuration.twilio.authToken = Secret(authToken)
            configuration.llm.baseURL = cloudURL.appendingPathComponent("v1")
            configuration.textToSpeech.baseURL = cloudURL
            configuration.textToSpeech.voiceEnglish = "demo-voice"
            configuration.textToSpeech.apiKey = Secret("demo")
            configuration.restaurant.name = "Trattoria Roma"
            configuration.reservations.timeZone = zone
            configuration.reservations.seatsPerSlot = max(40, calls * 4)
            configuration.reservations.maxPartySize = 8
            if record { configuration.recordingPublicKey = try RecordingIdentity.generate().publicKeyBase64 }
            let allDay = ReservationPolicy.Period("11:00-23:30")!
            configuration.reservations.openingHours = Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [allDay]) })
            var quietLogger = logger
            quietLogger.logLevel = .warning
            let agentLogger = quietLogger
            let publicURL = configuration.publicURL
            let http = UpstreamHTTP.makeClient()
            let app: EdgeAgentApp
            do {
                app = try await EdgeAgentApp.prepare(configuration: configuration, logger: agentLogger, http: http)
            } catch {
                try? await http.shutdown()
                throw error
            }
            let router = app.makeRouter()
            let summary: Summary
            do {
                try await prepare?(app)
                summary = try await Self.serveAgent(app, router: router) { agentURL in
                    let side = alongside.map { work in Task { try await work(app) } }
                    defer { side?.cancel() }
                    let simulator = CallSimulator(
                        agentURL: agentURL, publicURL: publicURL, authToken: authToken, logger: agentLogger)
                    let script = CallScript([
                        .waitForAgent(timeout: .seconds(10)), .say(lines[0]), .waitForAgent(timeout: .seconds(15)),
                        .say(lines[1]), .waitForAgent(timeout: .seconds(15)), .say(lines[2]),
                        .waitForAgent(timeout: .seconds(15)), .pause(.seconds(1)), .hangUp,
                    ])
                    print("Calling the agent at \(agentURL) \(calls == 1 ? "once" : "\(calls) times at once")...")
                    if let externalCallers {
                        let report = try await externalCallers(
                            agentURL, publicURL, authToken, DemoCloud.callerLines, calls)
                        var ended = Set<String>()
                        for await event in app.callEvents {
                            if case .ended(let id) = event { ended.insert(id) }
                            if ended.count >= calls { break }
                        }
                        print("The callers' process reported:")
                        for line in report.split(separator: "\n") { print("  " + line) }
                        if let side { print(try await side.value) }
                        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
                        let cpu = (Self.cpuSeconds() - startedCPU) / startedWall.duration(to: .now).seconds / cores
                        return try await summarise(
                            [], placed: calls, app: app, cpuShare: cpu, agentOnly: true, print: print)
                    }
                    let reports = try await withThrowingTaskGroup(of: CallReport.self) { group in
                        for index in 0..<calls {
                            group.addTask {
                                try await simulator.call(
                                    callSid: "CA" + String(format: "%032x", index + 1),
                                    from: "+1555\(String(format: "%07d", 100 + index))", to: "+15557654321",
                                    script: script)
                            }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    var ended = Set<String>()
                    for await event in app.callEvents {
                        if case .ended(let id) = event { ended.insert(id) }
                        if ended.count >= reports.count { break }
                    }
                    if let side { print(try await side.value) }
                    let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
                    let cpu = (Self.cpuSeconds() - startedCPU) / startedWall.duration(to: .now).seconds / cores
                    return try await summarise(
                        reports, placed: calls, app: app, cpuShare: cpu, agentOnly: false, print: print)
                }
            } catch {
                await app.shutdown()
                throw error
            }
            await app.shutdown()
            return summary
        }
    }

    private func summarise(
        _ reports: [CallReport], placed: Int, app: EdgeAgentApp, cpuShare: Double, agentOnly: Bool,
        print: @Sendable (String) -> Void
    ) async throws -> Summary {
        var summary = Summary()
        summary.cpuShare = cpuShare
        // Every demo caller asks for one table and says every line once.
        summary.bookingsRequested = placed
        summary.callerLines = placed * DemoCloud.callerLines.count
        (summary.callerTurns, summary.answeredTurns) = try await app.database.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM conversation_turns WHERE speaker = 'caller'") ?? 0,
                // An answer is an agent turn after a caller's transcript; the greeting has none.
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM conversation_turns
                        WHERE speaker = 'agent' AND transcript_final_at IS NOT NULL AND NOT interrupted
                        """) ?? 0
            )
        }
        let (agentLatencies, lateness) = try await app.database.read { db in
            (
                try Int64.fetchAll(
                    db,
                    sql: """
                        SELECT first_frame_at - transcript_final_at FROM conversation_turns
                        WHERE speaker = 'agent' AND first_frame_at IS NOT NULL AND transcript_final_at IS NOT NULL
                        """),
                try Double.fetchAll(db, sql: "SELECT value FROM call_metrics WHERE name = 'worst_frame_lateness_ms'")
            )
        }
        summary.agentLatency = Percentiles(agentLatencies.map { .milliseconds($0) })
        let stages = try await app.database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT first_token_at - transcript_final_at AS token, first_audio_at - first_token_at AS audio,
                        first_frame_at - first_audio_at AS frame FROM conversation_turns
                    WHERE speaker = 'agent' AND first_frame_at IS NOT NULL AND transcript_final_at IS NOT NULL
                    """
            ).map { row in (row["token"] as Int64? ?? 0, row["audio"] as Int64? ?? 0, row["frame"] as Int64? ?? 0) }
        }
        if let token = Percentiles(stages.map { .milliseconds($0.0) }),
            let audio = Percentiles(stages.map { .milliseconds($0.1) }),
            let frame = Percentiles(stages.map { .milliseconds($0.2) })
        {
            print("  of which: transcript to last model token \(token)")
            print("            model to first audio \(audio)")
            print("            first audio to first frame \(frame)")
        }
        summary.worstFrameLateness = Percentiles(lateness.map { .microseconds(Int64($0 * 1000)) })
        summary.calls = reports.count
        summary.completedCalls = reports.filter(\.agentHungUp).count
        if agentOnly {
            let (calls, hungUp) = try await app.database.read { db in
                (
                    try Call.fetchCount(db),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM calls WHERE outcome = 'reservation_created'") ?? 0
                )
            }
            summary.calls = calls
            summary.completedCalls = hungUp
        }
        summary.timeouts = reports.reduce(0) { $0 + $1.timeouts }
        summary.responseLatency = Percentiles(reports.flatMap(\.responseLatencies))
        summary.pacingError = Percentiles(reports.flatMap(\.pacingErrors))
        summary.reservations = try await app.database.read { db in try Reservation.fetchCount(db) }
        if reports.count == 1, let callID = reports.first?.callID {
            print("")
            print("Transcript:")
            for turn in try await CallLog(database: app.database).turns(callID: callID) {
                let who = turn.speaker == .caller ? "Caller" : "Agent "
                print("  \(who): \(turn.text)\(turn.interrupted ? "  [cut off]" : "")")
                if turn.speaker == .agent, let end = turn.endOfSpeechAt {
                    func after(_ time: Int64?) -> String { time.map { "\($0 - end) ms" } ?? "-" }
                    print(
                        "           after the caller stopped: transcript \(after(turn.transcriptFinalAt)), first token "
                            + "\(after(turn.firstTokenAt)), first audio \(after(turn.firstAudioAt)), first frame \(after(turn.firstFrameAt))"
                    )
                }
            }
            print("")
            print("Stored:")
            let (reservations, tools, outbox, call) = try await app.database.read { db in
                (
                    try Reservation.fetchAll(db), try ToolExecution.order(sql: "started_at").fetchAll(db),
                    try String.fetchAll(
                        db,
                        sql: "SELECT table_name || ': ' || count(*) FROM outbox GROUP BY table_name ORDER BY table_name"
                    ),
                    try Call.fetchOne(db, key: callID)
                )
            }
            for reservation in reservations {
                let start = Date(unixMilliseconds: reservation.startsAt)
                let zone = app.configuration.reservations.timeZone
                print(
                    "  reservation \(reservation.id): \(reservation.name), party of \(reservation.partySize), "
                        + "\(LocalDate(start, in: zone)) \(LocalTime(start, in: zone)), \(reservation.status.rawValue)")
            }
            for tool in tools {
                print("  tool \(tool.tool) (\(tool.status.rawValue), \(tool.durationMilliseconds) ms): \(tool.result)")
            }
            if let call {
                print("  call \(call.callSid): language \(call.language ?? "?"), outcome \(call.outcome ?? "?")")
            }
            print("  outbox (waiting for headquarters): \(outbox.joined(separator: ", "))")
        }
        print("")
        print(
            "Calls: \(summary.calls), \(agentOnly ? "ending in a booking" : "ended by the agent after goodbye"): \(summary.completedCalls), reservations: \(summary.reservations)"
        )
        print(
            "Carried out once: \(summary.reservations) reservations for \(summary.bookingsRequested) bookings requested, "
                + "\(summary.answeredTurns) turns answered for \(summary.callerLines) caller lines "
                + "(\(summary.callerTurns) heard)\(summary.miscount == nil ? "" : "  MISMATCH")")
        if let latency = summary.responseLatency {
            print("Caller wait, end of speech to first agent audio: \(latency)")
        }
        if let agent = summary.agentLatency { print("Agent's own time, final transcript to first frame: \(agent)") }
        if let pacing = summary.pacingError { print("Outbound frame pacing error seen by the callers: \(pacing)") }
        if let lateness = summary.worstFrameLateness {
            print("Worst frame lateness per call at the agent's pacer: \(lateness)")
        }
        let recordings = try await RecordingVault(database: app.database).all()
        if !recordings.isEmpty {
            summary.recordings = recordings.count
            summary.completeRecordings = recordings.filter { $0.state == .complete }.count
            let bytes = recordings.reduce(0) { $0 + ($1.sizeBytes ?? 0) }
            let seconds = recordings.reduce(0) { $0 + ($1.durationMilliseconds ?? 0) } / 1000
            print(
                "Recordings: \(summary.completeRecordings) of \(summary.recordings) complete, \(seconds) s of calls, "
                    + "\(bytes / 1024) KiB encrypted")
        }
        if let cpu = summary.cpuShare {
            let whose = agentOnly ? "agent and stand-ins; the callers ran elsewhere" : "agent, callers and stand-ins"
            print("CPU of this process (\(whose)): \(String(format: "%.0f", cpu * 100))% of the machine")
        }
        return summary
    }

    /// User plus system CPU seconds of this process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
    }

    /// The demo caller's three lines, spoken by espeak-ng, or tone bursts of the same lengths without it.
    static func callerAudio(print: @Sendable (String) -> Void) throws -> [[UInt8]] {
        do {
            return try DemoCloud.callerLines.map { try CallerVoice.speak($0, language: "en") }
        } catch {
            print("(\(error); the caller speaks in tones instead)")
            return DemoCloud.callerLines.map { line in
                let words = line.split(separator: " ").count
                let tone = (0..<(words * 280 * 8)).map {
                    MuLaw.encode(Int16(9000 * sin(Double($0) * 2 * .pi * 180 / 8000)))
                }
                return tone + [UInt8](repeating: MuLaw.silence, count: 700 * 8)
            }
        }
    }

    /// Serves `router` on a free loopback port while `body` runs with its URL: a local stand-in for a
    /// cloud service.
    public static func serve<T: Sendable>(
        _ router: Router<BasicRequestContext>, logger: Logger, _ body: (URL) async throws -> T
    ) async throws -> T {
        let port = Handoff<Int?>()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { port.send($0.localAddress!.port!) }, logger: logger)
        return try await runWhileServing(app, port: port, logger: logger, body)
    }

    static func serveAgent<T: Sendable>(
        _ app: EdgeAgentApp, router: Router<AgentRequestContext>, _ body: (URL) async throws -> T
    ) async throws -> T {
        let port = Handoff<Int?>()
        let server = app.makeApplication(router: router) { port.send($0.localAddress!.port!) }
        return try await runWhileServing(server, port: port, logger: app.logger, body)
    }

    /// Runs `server` in a service group, `body` against it, then stops the server gracefully.
    /// `port` gets the listening port from the server's start; a server that stops or fails before it
    /// listens ends the wait with its error rather than leaving it waiting.
    static func runWhileServing<T: Sendable>(
        _ server: some Service, port: Handoff<Int?>, logger: Logger, _ body: (URL) async throws -> T
    ) async throws -> T {
        let group = ServiceGroup(
            services: [server], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                defer { port.send(nil) }
                try await group.run()
                return nil
            }
            let result: T
            do {
                guard let listening = await port.receive() else {
                    try await tasks.waitForAll()
                    throw ServerDidNotStart()
                }
                result = try await body(URL(string: "http://127.0.0.1:\(listening)")!)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// A stand-in's server stopped before it listened, without saying why.
    struct ServerDidNotStart: Error, CustomStringConvertible {
        var description: String { "the stand-in server stopped before it listened" }
    }
}
