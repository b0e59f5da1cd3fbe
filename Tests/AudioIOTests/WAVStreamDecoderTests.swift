import Testing

@testable import AudioIO

@Suite("WAV read as it arrives")
struct WAVStreamDecoderTests {
    static func u32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8((value >> ($0 * 8)) & 0xFF) } }
    static func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }

    static func wav(code: Int, channels: Int, rate: Int, bits: Int, data: [UInt8], extra: [UInt8] = []) -> [UInt8] {
        let format =
            u16(code) + u16(channels) + u32(rate) + u32(rate * channels * bits / 8) + u16(channels * bits / 8)
            + u16(bits)
        let body =
            Array("WAVE".utf8) + Array("fmt ".utf8) + u32(format.count) + format + extra + Array("data".utf8)
            + u32(data.count) + data
        return Array("RIFF".utf8) + u32(body.count) + body
    }

    static let stereo: [Int16] = (0..<2000).map { Int16(truncatingIfNeeded: $0 * 37 - 20000) }
    static var stereoBytes: [UInt8] { stereo.flatMap { u16(Int(UInt16(bitPattern: $0))) } }

    @Test("fed one byte at a time or all at once, the samples are the same and skipped chunks are skipped")
    func pieces() throws {
        let odd = Array("LIST".utf8) + Self.u32(3) + [1, 2, 3, 0]
        let file = Self.wav(code: 1, channels: 2, rate: 8000, bits: 16, data: Self.stereoBytes, extra: odd)
        var whole = WAVStreamDecoder()
        let all = try whole.feed(file)
        try whole.finish()
        var piecewise = WAVStreamDecoder()
        var samples: [Int16] = []
        for byte in file { samples += try piecewise.feed([byte]) }
        try piecewise.finish()
        #expect(all == Self.stereo)
        #expect(samples == Self.stereo)
        #expect(piecewise.format == .init(sampleRate: 8000, channels: 2, encoding: 1))
    }

    @Test("mu-law is decoded")
    func muLaw() throws {
        let codes: [UInt8] = [0xFF, 0x00, 0x80, 0x7F]
        var decoder = WAVStreamDecoder()
        let samples = try decoder.feed(Self.wav(code: 7, channels: 1, rate: 8000, bits: 8, data: codes))
        #expect(samples == codes.map { MuLaw.decode($0) })
    }

    @Test("each kind of bad file has its own message, and a cut one says it is cut")
    func refused() throws {
        var html = WAVStreamDecoder()
        #expect(throws: WAVStreamDecoder.FormatError(description: #"not a WAV file (it starts with "<html><body>")"#)) {
            _ = try html.feed(Array("<html><body>gateway".utf8))
        }
        var eightBit = WAVStreamDecoder()
        #expect(throws: WAVStreamDecoder.FormatError.self) {
            _ = try eightBit.feed(Self.wav(code: 1, channels: 1, rate: 8000, bits: 8, data: [1, 2]))
        }
        let file = Self.wav(code: 1, channels: 2, rate: 8000, bits: 16, data: Self.stereoBytes)
        var cut = WAVStreamDecoder()
        _ = try cut.feed(file.prefix(file.count - 100))
        do {
            try cut.finish()
            Issue.record("a cut file was accepted")
        } catch {
            #expect(error.isTruncated)
            #expect(error.description == "the WAV file ended 100 bytes before the end of its audio")
        }
        var headerOnly = WAVStreamDecoder()
        _ = try headerOnly.feed(file.prefix(20))
        #expect(throws: WAVStreamDecoder.FormatError.self) { try headerOnly.finish() }
    }
}
