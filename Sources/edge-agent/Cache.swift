import ArgumentParser
import AsyncHTTPClient
import CallSimulator
import EdgeAgent
import Foundation
import Logging
import Synchronization

/// `edge-agent cache warm | stats | verify`: the phrase cache on this box.
struct Cache: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill, inspect and check the phrase cache.",
        subcommands: [Warm.self, Stats.self, Verify.self]
    )

    /// The configuration file option every cache subcommand takes.
    struct Options: ParsableArguments {
        @Option(name: .long, help: "The YAML (or JSON) configuration file.")
        var config: String?

        /// Loads the configuration and opens the agent's store (exit 2 for configuration errors, 1 otherwise).
        func prepare(http: Bool = false, maintenance: Bool = true) async throws -> EdgeAgentApp {
            let loaded = try loadConfiguration(config)
            var logging = loaded.configuration.logging
            logging.level = "warning"
            let logger = AgentLogging.bootstrap(logging)
            let client = http ? UpstreamHTTP.makeClient() : HTTPClient.shared
            do {
                return try await EdgeAgentApp.prepare(
                    configuration: loaded.configuration, logger: logger, http: client, maintenance: maintenance)
            } catch {
                if client !== HTTPClient.shared { try? await client.shutdown() }
                throw fail("\(error)", code: 1)
            }
        }

        /// Runs `body` with the agent prepared (``prepare(http:maintenance:)``), and shuts the agent
        /// down after, whatever happens. An error from `body`, other than an exit code it chose, is
        /// printed after `failure` and exits 1.
        func withApp<Result>(
            http: Bool = false, maintenance: Bool = true, failure: String = "",
            _ body: (EdgeAgentApp) async throws -> Result
        ) async throws -> Result {
            let app = try await prepare(http: http, maintenance: maintenance)
            let result: Result
            do {
                result = try await body(app)
            } catch let exit as ExitCode {
                await app.shutdown()
                throw exit
            } catch {
                await app.shutdown()
                throw fail(failure + "\(error)", code: 1)
            }
            await app.shutdown()
            return result
        }
    }

    struct Warm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch every phrase of the catalog that is not cached yet, a few at a time.",
            discussion: "Exit codes: 0 when every phrase is cached, 1 when some could not be fetched or stored.")

        @OptionGroup var options: Options

        @Option(name: .long, help: "Phrases fetched at once (default: cache.warm_concurrency).")
        var concurrency: Int?

        func run() async throws {
            let bar = ProgressBar()
            let report = try await options.withApp(http: true) { app in
                defer { bar.end() }
                return try await app.makePhraseWarmer(concurrency: concurrency).warm { bar.show($0) }
            }
            print(
                "\(report.phrases) phrases: \(report.alreadyCached) already cached, \(report.fetched) fetched "
                    + "(\(ByteCountFormatter.string(fromByteCount: Int64(report.bytes), countStyle: .file))), "
                    + "\(report.failed) failed")
            if report.failed > 0 {
                throw fail(
                    "\(report.failed) phrases could not be cached; first error: \(report.firstError ?? "?")", code: 1)
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show hits and misses by tier, bytes, and the characters and money not sent to ElevenLabs.")

        @OptionGroup var options: Options

        @Flag(name: .long, help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            let summary = try await options.withApp { app in
                try await PhraseCacheSummary(
                    statistics: app.phraseCache.statistics(),
                    pricePerThousandCharacters: app.configuration.textToSpeech.pricePerThousandCharacters)
            }
            print(json ? summary.json : summary.table)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every cached file against its hash; damaged or missing ones are evicted.",
            discussion: "Exit codes: 0 when every file was intact, 1 otherwise (the next warm fetches them again).")

        @OptionGroup var options: Options

        func run() async throws {
            let report = try await options.withApp { app in try await app.phraseCache.verify() }
            print(
                "\(report.intact) intact (\(ByteCountFormatter.string(fromByteCount: report.bytes, countStyle: .file))), "
                    + "\(report.corrupt) damaged, \(report.missing) missing, \(report.orphans) stray files removed")
            if !report.passed {
                throw fail(
                    "\(report.corrupt + report.missing) cached phrases were damaged or missing and have been evicted; "
                        + "run `edge-agent cache warm`", code: 1)
            }
        }
    }
}

/// A one-line progress bar on standard error: count, bytes, rate and time left. On a terminal it
/// redraws in place; otherwise it prints a line every 10 %.
final class ProgressBar: Sendable {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let lastDecile = Mutex(-1)

    func show(_ progress: PhraseWarmer.Progress) {
        let fraction = progress.total == 0 ? 1 : Double(progress.done) / Double(progress.total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let bytes = ByteCountFormatter.string(fromByteCount: Int64(progress.bytes), countStyle: .file)
        let left = progress.remaining.map { Self.clock($0) } ?? "--:--"
        let line =
            "[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
            + "\(progress.done)/\(progress.total) phrases  \(bytes)  \(String(format: "%.1f", progress.rate))/s  "
            + "\(left) left"
        if isTerminal {
            FileHandle.standardError.write(Data("\r\(line)".utf8))
        } else {
            let decile = Int(fraction * 10)
            let print = lastDecile.withLock { last in
                defer { last = max(last, decile) }
                return decile > last
            }
            if print { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        }
    }

    func end() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func clock(_ duration: Duration) -> String {
        let seconds = Int(duration.components.seconds)
        return String(format: "%d:%02d", seconds / 60, seconds % 60)
    }
}
