import AudioIO
import EdgeAgent
import Foundation

/// The audio of a busy restaurant's phone line, made on the box (no download): caller and agent
/// sentences spoken by espeak-ng in English and Spanish, and three kinds of noise behind the caller
/// (babble of overlapped espeak voices, clatter bursts of crockery, music), all 8 kHz linear PCM.
/// Everything is deterministic: the same seed gives the same corpus.
public struct NoisyLineCorpus: Sendable {
    /// A kind of noise behind the caller.
    public enum Noise: String, Sendable, CaseIterable {
        case babble, clatter, music
        /// All three at once, each 4.8 dB below the total.
        case restaurant
    }

    /// One sentence: its samples and where its speech really starts and ends (in samples).
    public struct Sentence: Sendable {
        public let language: String
        public let samples: [Int16]
        public let speechStart: Int
        public let speechEnd: Int
    }

    /// The caller's level while speaking (dBFS): a normal telephone line.
    public static let callerLevel = -26.0
    /// The agent's level while speaking (dBFS).
    public static let agentLevel = -20.0

    public let callerSentences: [Sentence]
    public let agentSentences: [Sentence]
    /// Noise tracks long enough for any scenario, at ``callerLevel`` (scaled down per SNR).
    let noiseTracks: [Noise: [Int16]]

    static let callerLines = [
        ("en", "Hi, I would like a table for four on Friday at seven thirty, please."),
        ("en", "Do you have anything without gluten on the menu?"),
        ("en", "Can I change my booking to Saturday, same time?"),
        ("en", "My name is Ana Lopez, and we will be six people."),
        ("es", "Hola, quisiera una mesa para cuatro el viernes a las ocho."),
        ("es", "¿Tienen platos vegetarianos en la carta?"),
        ("es", "Quiero cambiar mi reserva para el sábado, a la misma hora."),
        ("es", "Me llamo Carlos Ruiz y seremos cinco personas."),
    ]
    static let agentLines = [
        ("en", "Thank you for calling. I can book a table, tell you about the menu, or take a message for the staff."),
        ("en", "We have a table for four at seven thirty on Friday. Shall I book it under your name?"),
        ("en", "Our gluten free dishes are the grilled fish, the risotto and the chocolate cake."),
        ("es", "Gracias por llamar. Puedo reservar una mesa, contarle el menú o tomar un mensaje para el personal."),
        ("es", "Tenemos una mesa para cuatro a las ocho el viernes. ¿La reservo a su nombre?"),
        ("es", "Los platos sin gluten son el pescado a la plancha, el risotto y la tarta de chocolate."),
    ]
    static let babbleLines = [
        ("en-us+m3", "So we went back to the market and the place was completely full again."),
        ("es+f2", "No sé si vamos a llegar a tiempo, pero lo intentamos de todas formas."),
        ("en-us+f3", "Could we get another bottle of water and the bill when you have a moment?"),
        ("es+m4", "El postre estaba buenísimo, tienes que probarlo la próxima vez."),
        ("en-us+m5", "Honestly the best part of the trip was the little restaurant by the sea."),
        ("es+f4", "Mañana trabajo temprano, así que no me quedo mucho más."),
    ]

    /// Speaks every sentence with the local voice and makes the noise tracks.
    /// - Parameters:
    ///   - sentencesPerLanguage: caller sentences per language (at most four).
    ///   - seed: for the noise.
    public static func make(sentencesPerLanguage: Int = 4, seed: UInt64 = 7) async throws -> NoisyLineCorpus {
        var callers: [Sentence] = []
        for language in ["en", "es"] {
            for (_, text) in callerLines.filter({ $0.0 == language }).prefix(sentencesPerLanguage) {
                callers.append(
                    sentence(
                        try await LocalVoice.pcm(text, voice: language == "es" ? "es" : "en-us"),
                        language: language, level: callerLevel))
            }
        }
        var agents: [Sentence] = []
        for (language, text) in agentLines {
            agents.append(
                sentence(
                    try await LocalVoice.pcm(text, voice: language == "es" ? "es+f3" : "en-us+f3"),
                    language: language, level: agentLevel))
        }
        var talkers: [[Int16]] = []
        for (voice, text) in babbleLines { talkers.append(try await LocalVoice.pcm(text, voice: voice)) }
        let length = TelephoneAudio.sampleRate * 16
        var random = SeededRandom(seed: seed)
        let babble = Self.babble(talkers, length: length, random: &random)
        let clatter = Self.clatter(length: length, random: &random)
        let music = Self.music(length: length, random: &random)
        let share: Double = pow(10, -4.77 / 20)
        var mixed = [Int16](repeating: 0, count: length)
        for index in 0..<length {
            let sum = Double(babble[index]) + Double(clatter[index]) + Double(music[index])
            mixed[index] = Int16(clamping: Int((sum * share).rounded()))
        }
        return NoisyLineCorpus(
            callerSentences: callers, agentSentences: agents,
            noiseTracks: [
                .babble: babble, .clatter: clatter, .music: music,
                .restaurant: mixed,
            ])
    }

    /// `count` samples of `noise` at `snr` dB below the caller's speech, from `offset` on (wrapping).
    public func noise(_ noise: Noise, snr: Double?, offset: Int, count: Int) -> [Double] {
        guard let snr, let track = noiseTracks[noise], !track.isEmpty else {
            return [Double](repeating: 0, count: count)
        }
        let gain = pow(10, -snr / 20)
        return (0..<count).map { Double(track[(offset + $0) % track.count]) * gain }
    }

    // MARK: Making the pieces

    /// Trims and levels one sentence; finds where its speech is.
    static func sentence(_ samples: [Int16], language: String, level: Double) -> Sentence {
        let scaled = scale(samples, to: level)
        let frame = TelephoneAudio.samplesPerFrame
        let loud = stride(from: 0, to: scaled.count - frame, by: frame).filter { start in
            decibels(scaled[start..<start + frame]) > level - 30
        }
        let start = loud.first ?? 0
        let end = (loud.last ?? scaled.count - frame) + frame
        return Sentence(language: language, samples: scaled, speechStart: start, speechEnd: end)
    }

    /// The level (dBFS) of the loud part of `samples`: the frames within 25 dB of the loudest.
    static func activeLevel(_ samples: some Collection<Int16>) -> Double {
        let array = Array(samples)
        let frame = TelephoneAudio.samplesPerFrame
        let levels = stride(from: 0, to: max(array.count - frame, 0), by: frame).map { start in
            decibels(array[start..<start + frame])
        }
        guard let loudest = levels.max() else { return -96 }
        let active = levels.filter { $0 > loudest - 25 }
        let power = active.map(Decibels.power).reduce(0, +) / Double(max(active.count, 1))
        return Decibels.level(power: max(power, 1e-12))
    }

    static func scale(_ samples: [Int16], to level: Double) -> [Int16] {
        let gain = Decibels.amplitude(level - activeLevel(samples))
        return samples.map { Int16(clamping: Int((Double($0) * gain).rounded())) }
    }

    static func decibels(_ samples: some Collection<Int16>) -> Double {
        let power = samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(samples.count, 1))
        return Decibels.level(rms: power.squareRoot())
    }

    /// Six talkers at once, each starting somewhere in their sentence and looping.
    static func babble(_ talkers: [[Int16]], length: Int, random: inout SeededRandom) -> [Int16] {
        var sum = [Double](repeating: 0, count: length)
        for talker in talkers where !talker.isEmpty {
            let offset = random.next(below: talker.count)
            let pause = TelephoneAudio.sampleRate / 4 + random.next(below: TelephoneAudio.sampleRate / 2)
            let period = talker.count + pause
            for index in 0..<length {
                let position = (index + offset) % period
                if position < talker.count { sum[index] += Double(talker[position]) }
            }
        }
        return scale(sum.map { Int16(clamping: Int($0.rounded())) }, to: callerLevel)
    }

    /// Crockery and cutlery: a click and a few damped high partials, every 0.3 to 1.5 s.
    static func clatter(length: Int, random: inout SeededRandom) -> [Int16] {
        var samples = [Double](repeating: 0, count: length)
        let rate = Double(TelephoneAudio.sampleRate)
        var position = random.next(below: TelephoneAudio.sampleRate / 2)
        while position < length {
            let partials = (0..<(3 + random.next(below: 3))).map { _ in
                (
                    frequency: 900 + random.unit() * 2_900, decay: 0.02 + random.unit() * 0.10,
                    amplitude: 0.3 + random.unit() * 0.7, phase: random.unit() * 2 * .pi
                )
            }
            let duration = Int(rate * 0.35)
            for index in 0..<min(duration, length - position) {
                let time = Double(index) / rate
                var value = 0.0
                for partial in partials {
                    value +=
                        partial.amplitude * exp(-time / partial.decay)
                        * sin(2 * .pi * partial.frequency * time + partial.phase)
                }
                if index < 40 { value += (random.unit() * 2 - 1) * 1.5 * exp(-Double(index) / 10) }
                samples[position + index] += value * 8_000
            }
            position += Int(rate * (0.3 + random.unit() * 1.2))
        }
        return scale(samples.map { Int16(clamping: Int($0.rounded())) }, to: callerLevel)
    }

    /// A piano-like tune: chords of decaying harmonic notes every 0.4 to 0.6 s, over a bass line.
    static func music(length: Int, random: inout SeededRandom) -> [Int16] {
        var samples = [Double](repeating: 0, count: length)
        let rate = Double(TelephoneAudio.sampleRate)
        let scale = [0, 2, 4, 5, 7, 9, 11, 12]
        var position = 0
        while position < length {
            let root = 48 + scale[random.next(below: scale.count)]
            let notes = [root - 12, root, root + 4, root + 7, root + 12]
            let duration = Int(rate * (0.4 + random.unit() * 0.2))
            for note in notes {
                let frequency = 440 * pow(2, Double(note - 69) / 12)
                for index in 0..<min(Int(rate * 0.9), length - position) {
                    let time = Double(index) / rate
                    var value = 0.0
                    for harmonic in 1...4 where frequency * Double(harmonic) < 3_800 {
                        value += sin(2 * .pi * frequency * Double(harmonic) * time) / Double(harmonic * harmonic)
                    }
                    samples[position + index] += value * exp(-time / 0.35) * 2_000
                }
            }
            position += duration
        }
        return Self.scale(samples.map { Int16(clamping: Int($0.rounded())) }, to: callerLevel)
    }
}

/// A small deterministic generator (PCG-style LCG), so a corpus is the same on every machine.
struct SeededRandom: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 6_364_136_223_846_793_005 &+ 1 }

    mutating func nextValue() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 11
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(nextValue()) / Double(1 << 53) }

    mutating func next(below bound: Int) -> Int { bound <= 0 ? 0 : Int(nextValue() % UInt64(bound)) }
}
