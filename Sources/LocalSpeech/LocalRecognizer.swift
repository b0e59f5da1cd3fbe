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
/// touched only inside `decode`, which is only ever called on `queue`, a serial queue, and in `deinit`;
/// `queue` itself is Sendable and the other stored properties are immutable.
private final class Worker: @unchecked Sendable {
    let queue: DispatchQueue
    private let decoder: OpaquePointer
    /// The configuration's argument strings: sphinxbase keeps pointers to them (as the keys of its
    /// option table) for the decoder's life, so they are freed only after it.
    private let arguments: [UnsafeMutablePointer<CChar>?]

    init(model: LocalRecognizer.Model, label: String) throws(LocalRecognizer.Failure) {
        let settings = [
            "-hmm", model.acousticModel, "-dict", model.dictionary, "-samprate", "16000", "-bestpath", "yes",
            "-logfn", "/dev/null",
        ]
        var arguments = settings.map { strdup($0) }
        let opened = arguments.withUnsafeMutableBufferPointer {
            cpocketsphinx_open(Int32(settings.count), $0.baseAddress)
        }
        guard let decoder = opened else {
            arguments.forEach { free($0) }
            throw LocalRecognizer.Failure(description: "PocketSphinx refused the model at \(model.acousticModel)")
        }
        self.decoder = decoder
        self.arguments = arguments
        queue = DispatchQueue(label: label, qos: .userInitiated)
        // Every property is set: a throw below runs `deinit`, which frees the decoder.
        for step in SpokenStep.allCases where ps_set_jsgf_string(decoder, step.rawValue, step.englishGrammar) < 0 {
            throw LocalRecognizer.Failure(description: "PocketSphinx refused the \(step.rawValue) grammar")
        }
    }

    deinit {
        ps_free(decoder)
        arguments.forEach { free($0) }
    }

    func decode(_ audio: [UInt8], step: SpokenStep) -> LocalRecognizer.Result {
        let clock = ContinuousClock()
        let start = clock.now
        let samples = (try? Resampler.resample(MuLaw.decode(audio), from: 8000, to: 16000)) ?? []
        ps_set_search(decoder, step.rawValue)
        ps_start_utt(decoder)
        samples.withUnsafeBufferPointer { buffer in
            _ = ps_process_raw(decoder, buffer.baseAddress, buffer.count, 0, 1)
        }
        ps_end_utt(decoder)
        var score: Int32 = 0
        let text = ps_get_hyp(decoder, &score).map { String(cString: $0) } ?? ""
        let answer = SpokenAnswer(text, step: step)
        let confidence = answer.map { self.confidence(of: $0, step: step) } ?? 0
        return LocalRecognizer.Result(
            text: text, answer: answer, confidence: confidence, audioSeconds: Double(audio.count) / 8000,
            decodeTime: clock.now - start)
    }

    /// The margin between the best hypothesis with `answer`'s meaning and the best with another, among
    /// the decoder's ten best (scores of the same search), as 0 to 1.
    private func confidence(of answer: SpokenAnswer, step: SpokenStep) -> Double {
        var best: Int32?
        var rival: Int32?
        var nbest = ps_nbest(decoder)
        var seen = 0
        while let current = nbest, seen < 10 {
            seen += 1
            var score: Int32 = 0
            if let text = ps_nbest_hyp(current, &score), let meaning = SpokenAnswer(String(cString: text), step: step) {
                if meaning == answer {
                    best = max(best ?? score, score)
                } else {
                    rival = max(rival ?? score, score)
                }
            }
            nbest = ps_nbest_next(current)
        }
        if let nbest { ps_nbest_free(nbest) }
        guard let rival else { return 1 }
        guard let best else { return 0 }
        let margin = Double(max(0, best - rival))
        return 1 - exp(-margin / LocalRecognizer.confidenceScale)
    }
}
