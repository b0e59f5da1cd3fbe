import ArgumentParser
import AudioIO
import EdgeAgent

/// `edge-agent audio bench`.
struct Audio: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The box's audio: how the agent hears a caller on a noisy line.",
        subcommands: [Bench.self])
}

extension Audio {
    struct Bench: AsyncParsableCommand {
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

        @Option(name: .long, help: "Parts to leave out of the shipped path: echo, gate (comma-separated).")
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
                default: throw fail("--without takes echo and gate, not \(part)", code: 2)
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
}
