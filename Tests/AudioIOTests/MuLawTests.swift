import Testing

@testable import AudioIO

/// Independent reference values: the ITU-T G.711 mu-law expansion table (16-bit scale) and
/// compression samples, produced by CPython's `audioop` (a separate C implementation), not by
/// the code under test.
enum G711Reference {
    static let decoded: [Int16] = [
        -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884, -20860,
        -19836, -18812, -17788, -16764, -15996, -15484, -14972, -14460, -13948, -13436, -12924, -12412,
        -11900, -11388, -10876, -10364, -9852, -9340, -8828, -8316, -7932, -7676, -7420, -7164,
        -6908, -6652, -6396, -6140, -5884, -5628, -5372, -5116, -4860, -4604, -4348, -4092,
        -3900, -3772, -3644, -3516, -3388, -3260, -3132, -3004, -2876, -2748, -2620, -2492,
        -2364, -2236, -2108, -1980, -1884, -1820, -1756, -1692, -1628, -1564, -1500, -1436,
        -1372, -1308, -1244, -1180, -1116, -1052, -988, -924, -876, -844, -812, -780,
        -748, -716, -684, -652, -620, -588, -556, -524, -492, -460, -428, -396,
        -372, -356, -340, -324, -308, -292, -276, -260, -244, -228, -212, -196,
        -180, -164, -148, -132, -120, -112, -104, -96, -88, -80, -72, -64,
        -56, -48, -40, -32, -24, -16, -8, 0, 32124, 31100, 30076, 29052,
        28028, 27004, 25980, 24956, 23932, 22908, 21884, 20860, 19836, 18812, 17788, 16764,
        15996, 15484, 14972, 14460, 13948, 13436, 12924, 12412, 11900, 11388, 10876, 10364,
        9852, 9340, 8828, 8316, 7932, 7676, 7420, 7164, 6908, 6652, 6396, 6140,
        5884, 5628, 5372, 5116, 4860, 4604, 4348, 4092, 3900, 3772, 3644, 3516,
        3388, 3260, 3132, 3004, 2876, 2748, 2620, 2492, 2364, 2236, 2108, 1980,
        1884, 1820, 1756, 1692, 1628, 1564, 1500, 1436, 1372, 1308, 1244, 1180,
        1116, 1052, 988, 924, 876, 844, 812, 780, 748, 716, 684, 652,
        620, 588, 556, 524, 492, 460, 428, 396, 372, 356, 340, 324,
        308, 292, 276, 260, 244, 228, 212, 196, 180, 164, 148, 132,
        120, 112, 104, 96, 88, 80, 72, 64, 56, 48, 40, 32,
        24, 16, 8, 0,
    ]

    static let encoded: [(sample: Int16, codeword: UInt8)] = [
        (-32768, 0x00),
        (-32767, 0x00),
        (-32636, 0x00),
        (-32124, 0x00),
        (-32123, 0x00),
        (-27854, 0x04),
        (-26663, 0x05),
        (-26440, 0x06),
        (-26269, 0x06),
        (-25166, 0x07),
        (-25021, 0x07),
        (-24956, 0x07),
        (-24660, 0x07),
        (-24539, 0x07),
        (-23612, 0x08),
        (-23274, 0x09),
        (-23174, 0x09),
        (-22040, 0x0A),
        (-21503, 0x0A),
        (-20879, 0x0B),
        (-20431, 0x0B),
        (-19998, 0x0C),
        (-19261, 0x0D),
        (-17329, 0x0E),
        (-17293, 0x0E),
        (-16542, 0x0F),
        (-15313, 0x11),
        (-13861, 0x14),
        (-12996, 0x16),
        (-11147, 0x19),
        (-9206, 0x1D),
        (-9080, 0x1E),
        (-8144, 0x1F),
        (-5773, 0x28),
        (-4628, 0x2D),
        (-3791, 0x31),
        (-3508, 0x33),
        (-1224, 0x4A),
        (-1000, 0x4E),
        (-774, 0x53),
        (-207, 0x6A),
        (-100, 0x72),
        (-1, 0x7E),
        (0, 0xFF),
        (1, 0xFF),
        (2, 0xFF),
        (3, 0xFF),
        (4, 0xFE),
        (5, 0xFE),
        (31, 0xFB),
        (32, 0xFB),
        (33, 0xFB),
        (100, 0xF2),
        (1000, 0xCE),
        (4972, 0xAC),
        (5191, 0xAB),
        (6523, 0xA6),
        (6586, 0xA5),
        (7665, 0xA1),
        (8407, 0x9F),
        (9677, 0x9C),
        (12065, 0x98),
        (12252, 0x97),
        (14625, 0x93),
        (15163, 0x92),
        (16042, 0x90),
        (18982, 0x8D),
        (19225, 0x8D),
        (22036, 0x8A),
        (22042, 0x8A),
        (22169, 0x8A),
        (22874, 0x89),
        (23277, 0x89),
        (24070, 0x88),
        (26061, 0x86),
        (26631, 0x85),
        (28259, 0x84),
        (32124, 0x80),
        (32125, 0x80),
        (32127, 0x80),
        (32298, 0x80),
        (32632, 0x80),
        (32640, 0x80),
        (32767, 0x80),
    ]
}

@Suite("G.711 mu-law")
struct MuLawTests {
    @Test("every codeword decodes to the ITU table value")
    func decodeMatchesITUTable() {
        #expect(G711Reference.decoded.count == 256)
        for codeword in 0...255 {
            #expect(MuLaw.decode(UInt8(codeword)) == G711Reference.decoded[codeword], "codeword \(codeword)")
        }
    }

    @Test("all 256 codewords round-trip through linear and back")
    func roundTrip() {
        for codeword in 0...255 {
            let linear = MuLaw.decode(UInt8(codeword))
            // 0x7F is G.711's negative zero: it decodes to 0, which encodes as positive zero 0xFF.
            let expected: UInt8 = codeword == 0x7F ? 0xFF : UInt8(codeword)
            #expect(MuLaw.encode(linear) == expected, "codeword \(codeword)")
        }
    }

    @Test("linear samples encode to the reference codewords", arguments: G711Reference.encoded)
    func encodeMatchesReference(sample: Int16, codeword: UInt8) {
        #expect(MuLaw.encode(sample) == codeword)
    }

    @Test("encoding is monotonic over the whole 16-bit range")
    func encodeIsMonotonic() {
        // Decoding the encoded value never moves a sample across zero and never grows with a smaller input.
        var previous = MuLaw.decode(MuLaw.encode(Int16.min))
        var violations: [Int16] = []
        for sample in Int16.min...Int16.max {
            let decoded = MuLaw.decode(MuLaw.encode(sample))
            if decoded < previous || (sample >= 0) != (decoded >= 0) && decoded != 0 { violations.append(sample) }
            previous = decoded
        }
        #expect(violations.isEmpty)
    }

    @Test("buffers convert element by element")
    func bufferConversion() {
        let samples: [Int16] = [0, 1000, -1000, 32767, -32768]
        let codewords = MuLaw.encode(samples)
        #expect(codewords == samples.map { MuLaw.encode($0) })
        #expect(MuLaw.decode(codewords) == codewords.map { MuLaw.decode($0) })
    }
}

@Suite("Telephone frames")
struct MuLawFrameTests {
    @Test("a frame is exactly 160 bytes")
    func frameSize() {
        #expect(TelephoneAudio.samplesPerFrame == 160)
        #expect(MuLawFrame(bytes: [UInt8](repeating: 0, count: 159)) == nil)
        #expect(MuLawFrame(bytes: [UInt8](repeating: 0, count: 160)) != nil)
    }

    @Test("a buffer is cut into frames and the last is padded with silence")
    func framing() {
        let audio = [UInt8](repeating: 0x10, count: 400)
        let frames = MuLawFrame.frames(from: audio)
        #expect(frames.count == 3)
        #expect(frames[2].bytes.prefix(80).allSatisfy { $0 == 0x10 })
        #expect(frames[2].bytes.suffix(80).allSatisfy { $0 == MuLaw.silence })
        #expect(MuLawFrame.frames(from: []).isEmpty)
    }
}
