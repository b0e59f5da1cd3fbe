import AgentBenchmarks
import ArgumentParser
import AudioIO
import EdgeAgent
import Foundation
import LocalSpeech

/// `agent-bench`: the agent's benchmarks, kept out of the `edge-agent` program that runs in a
/// restaurant. Each runs in a temporary folder against local stand-ins and needs no accounts.
@main
struct AgentBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-bench",
        abstract: "The edge agent's benchmarks; each checks its own outcome and exits 1 when it is wrong.",
        subcommands: [PhraseCache.self, Listening.self, Recognition.self, Recording.self])
}

/// Prints `message` as one line on standard error and returns the exit code to throw.
func fail(_ message: String, code: Int32) -> ExitCode {
    let line = "agent-bench: " + message.replacingOccurrences(of: "\n", with: " ") + "\n"
    FileHandle.standardError.write(Data(line.utf8))
    return ExitCode(code)
}

/// `agent-bench phrase-cache`.
struct PhraseCache: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phrase-cache",
        abstract: "Benchmark the phrase cache: hits from memory and disk, and a warm of the whole catalog.",
        discussion: "Runs in a temporary folder against a local stand-in for ElevenLabs; needs no accounts.")

    @Option(name: .long, help: "Hits measured per tier.")
    var hits = 10_000

    @Option(name: .long, help: "Phrases warmed at once in the concurrent warm.")
    var concurrency = 8

    @Option(name: .long, help: "Warm only the first this many catalog phrases.")
    var phrases: Int?

    func run() async throws {
        var logging = AgentConfiguration().logging
        logging.level = "error"
        let logger = AgentLogging.bootstrap(logging)
        do {
            print(
                try await PhraseCacheBenchmark(
                    hits: hits, concurrency: concurrency, phraseLimit: phrases, logger: logger
                ).run())
        } catch {
            throw fail("\(error)", code: 1)
        }
    }
}

/// `agent-bench listening`.
struct Listening: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Benchmark listening on a noisy line: false barge-ins, utterances ended correctly and end-of-turn "
            + "delay, before (the line as it came, an interruption at the first onset) and after (echo cancellation, the "
            + "noise-robust detector, the barge-in rule).")

    @Option(name: .long, help: "Caller sentences per language in the corpus (1 to 4).")
    var sentences = 4

    @Option(name: .long, help: "Seed of the noise (the same seed, the same corpus).")
    var seed: UInt64 = 7

    @Option(name: .long, help: "Parts to add to the shipped path: denoise, gain (comma-separated).")
    var with: String = ""

    @Option(name: .long, help: "Parts to leave out of the shipped path: echo, gate, level (comma-separated).")
    var without: String = ""

    func run() async throws {
        guard (1...4).contains(sentences) else { throw fail("--sentences must be 1 to 4", code: 2) }
        var after = CallerListener.Settings()
        for part in with.split(separator: ",") {
            switch part {
            case "denoise": after.cleaning?.noiseSuppression = true
            case "gain": after.cleaning?.automaticGain = true
            default: throw fail("--with takes denoise and gain, not \(part)", code: 2)
            }
        }
        for part in without.split(separator: ",") {
            switch part {
            case "echo": after.cleaning?.echoCancellation = false
            case "gate": after.bargeInSpeech = .zero
            case "level": after.bargeInBelowCallerDecibels = nil
            default: throw fail("--without takes echo, gate and level, not \(part)", code: 2)
            }
        }
        do {
            let corpus = try await NoisyLineCorpus.make(sentencesPerLanguage: sentences, seed: seed)
            print(ListeningBenchmark(corpus: corpus, after: after).run())
        } catch {
            throw fail("\(error)", code: 1)
        }
    }
}

/// `agent-bench recognition`.
struct Recognition: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the box's own speech recognizer on the answers of an offline booking.",
        discussion:
            "Speaks every step's answers with espeak-ng in several English voices, as telephone audio, clean "
            + "and with restaurant noise 10 dB below, and decodes them with PocketSphinx.")

    @Option(name: .long, help: "The confidence below which an answer is asked again (0 to 1).")
    var minimumConfidence = LocalRecognizer.minimumConfidence

    func run() async throws {
        do {
            let recognizer = try LocalRecognizer()
            let noise = try await NoisyLineCorpus.make(sentencesPerLanguage: 1, seed: 7)
            let benchmark = RecognitionBenchmark(recognizer: recognizer, minimumConfidence: minimumConfidence)
            print(try await benchmark.run(noise: noise))
        } catch {
            throw fail("\(error)", code: 1)
        }
    }
}

/// `agent-bench recording`.
struct Recording: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark recording: processor time per call of encoding and encrypting both sides.")

    @Option(name: .long, help: "Calls recorded one after another.")
    var calls = 10

    @Option(name: .long, help: "Seconds of audio per call.")
    var seconds = 60

    func run() async throws {
        do {
            print(try await RecordingBenchmark(calls: calls, secondsPerCall: seconds).run())
        } catch {
            throw fail("\(error)", code: 1)
        }
    }
}
