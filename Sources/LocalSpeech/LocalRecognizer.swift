import AudioIO
import CPocketSphinx
import Dispatch
import Foundation
import Synchronization

/// Speech recognition on the box, with no network: PocketSphinx decoding a caller's utterance against
/// the grammar of one booking step (``SpokenStep``). Telephone audio (8 kHz mu-law) is resampled to the
/// 16 kHz the acoustic model was trained on. Decoding runs on the recognizer's own threads, one per
/// decoder, never on the caller's task or an event loop; a call waits for its result asynchronously.
public final class LocalRecognizer: Sendable {
    /// Where a language's acoustic model and pronunciation dictionary are.
    public struct Model: Sendable, Equatable {
        public var acousticModel: String
        public var dictionary: String

        public init(acousticModel: String, dictionary: String) {
            self.acousticModel = acousticModel
            self.dictionary = dictionary
        }

        /// US English from Debian's `pocketsphinx-en-us`.
        public static let debianEnglish = Model(
            acousticModel: "/usr/share/pocketsphinx/model/en-us/en-us",
            dictionary: "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict")

        /// Whether both files are there.
        public var isInstalled: Bool {
            FileManager.default.fileExists(atPath: acousticModel) && FileManager.default.fileExists(atPath: dictionary)
        }
    }

    /// What the caller said at a step.
    public struct Result: Sendable, Equatable {
        /// The grammar's best words ("" when nothing matched).
        public let text: String
        /// What they mean at the step; nil when nothing usable was heard.
        public let answer: SpokenAnswer?
        /// 0 to 1: how far the best answer stands above the best different one the decoder also
        /// considered (1 when there was none).
        public let confidence: Double
        /// Seconds of audio decoded.
        public let audioSeconds: Double
        /// Processor time the decoding took.
        public let decodeTime: Duration
    }

    /// A recognizer that cannot start: its model is missing or refused.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The language the model speaks.
    public let language: String
    private let workers: [Worker]
    private let next = Mutex(0)

    /// Loads `decoders` decoders of `model` (each about 30 MB), every step's grammar in each.
    public init(model: Model = .debianEnglish, language: String = "en", decoders: Int = 2) throws(Failure) {
        guard model.isInstalled else {
            throw Failure(
                description:
                    "the \(language) speech model is not installed (\(model.acousticModel)): install pocketsphinx-en-us"
            )
        }
        self.language = language
        var workers: [Worker] = []
        for index in 0..<max(1, decoders) {
            workers.append(try Worker(model: model, label: "edge-agent.local-recognizer.\(index)"))
        }
        self.workers = workers
    }

    /// Decodes one utterance of 8 kHz mu-law telephone audio against `step`'s grammar.
    public func recognize(_ audio: [UInt8], step: SpokenStep) async -> Result {
        let worker = next.withLock { index in
            defer { index = (index + 1) % workers.count }
            return workers[index]
        }
        return await withCheckedContinuation { continuation in
            worker.queue.async {
                continuation.resume(returning: worker.decode(audio, step: step))
            }
        }
    }

    /// The confidence below which a call asks for an answer again.
    public static let minimumConfidence = 0.5

    /// How many different answers a margin must beat, in the decoder's log scale, for full confidence.
    static let confidenceScale = 150.0
}

/// One decoder and the thread it runs on.
///
/// `@unchecked Sendable`: the decoder (C state that is not thread-safe) is created in `init` and then
/// touched only inside `decode`, which is only ever called on `queue`, a serial queue; `queue` itself
/// is Sendable and the other stored properties are immutable.
private final class Worker: @unchecked Sendable {
    let queue: DispatchQueue
    private let decoder: OpaquePointer
    private let sampleRate: Int

    init(model: LocalRecognizer.Model, label: String) throws(LocalRecognizer.Failure) {
        var settings = [
            "-hmm": model.acousticModel, "-dict": model.dictionary, "-samprate": "16000", "-bestpath": "yes",
            "-logfn": "/dev/null",
        ]
        if let extra = ProcessInfo.processInfo.environment["EDGE_LOCAL_SPEECH_ARGS"] {
            let parts = extra.split(separator: " ").map(String.init)
            for index in stride(from: 0, to: parts.count - 1, by: 2) { settings[parts[index]] = parts[index + 1] }
        }
        sampleRate = Int(settings["-samprate"] ?? "") ?? 16000
        let arguments = settings.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
        let opened = Self.withCStrings(arguments) { cpocketsphinx_open(Int32(arguments.count), $0) }
        guard let decoder = opened else {
            throw LocalRecognizer.Failure(description: "PocketSphinx refused the model at \(model.acousticModel)")
        }
        self.decoder = decoder
        queue = DispatchQueue(label: label, qos: .userInitiated)
        for step in SpokenStep.allCases where ps_set_jsgf_string(decoder, step.rawValue, step.englishGrammar) < 0 {
            ps_free(decoder)
            throw LocalRecognizer.Failure(description: "PocketSphinx refused the \(step.rawValue) grammar")
        }
    }

    deinit { ps_free(decoder) }

    /// `strings` as a C `char **` for the duration of `body`.
    static func withCStrings<T>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> T)
        -> T
    {
        var pointers = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    func decode(_ audio: [UInt8], step: SpokenStep) -> LocalRecognizer.Result {
        let clock = ContinuousClock()
        let start = clock.now
        let samples = (try? Resampler.resample(MuLaw.decode(audio), from: 8000, to: sampleRate)) ?? []
        ps_set_search(decoder, step.rawValue)
        ps_start_utt(decoder)
        samples.withUnsafeBufferPointer { buffer in
            _ = ps_process_raw(decoder, buffer.baseAddress, buffer.count, 0, 1)
        }
        ps_end_utt(decoder)
        var score: Int32 = 0
        let text = ps_get_hyp(decoder, &score).map { String(cString: $0) } ?? ""
        let answer = SpokenAnswer(text, step: step)
        let confidence = answer.map { self.confidence(of: $0, score: score, step: step) } ?? 0
        return LocalRecognizer.Result(
            text: text, answer: answer, confidence: confidence, audioSeconds: Double(audio.count) / 8000,
            decodeTime: clock.now - start)
    }

    /// The margin between the best answer and the best different one among the decoder's ten best
    /// hypotheses, as 0 to 1.
    private func confidence(of answer: SpokenAnswer, score: Int32, step: SpokenStep) -> Double {
        var rival: Int32?
        var nbest = ps_nbest(decoder)
        var seen = 0
        while let current = nbest, seen < 10 {
            seen += 1
            var hypothesisScore: Int32 = 0
            if let text = ps_nbest_hyp(current, &hypothesisScore) {
                let other = SpokenAnswer(String(cString: text), step: step)
                if let other, other != answer {
                    rival = max(rival ?? hypothesisScore, hypothesisScore)
                }
            }
            nbest = ps_nbest_next(current)
        }
        if let nbest { ps_nbest_free(nbest) }
        guard let rival else { return 1 }
        let margin = Double(max(0, score - rival))
        return 1 - exp(-margin / LocalRecognizer.confidenceScale)
    }
}
