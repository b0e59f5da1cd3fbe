/// G.711 mu-law, the codec of Twilio Media Streams: 8-bit codewords to 16-bit linear PCM and back.
///
/// The tables are the ITU-T G.711 ones (the segment/quantisation scheme of the reference
/// implementation, bias 0x84, clip at 8159 in 14-bit units), built once and then only indexed,
/// so that converting a 20 ms frame is a few hundred table look-ups on the hot path.
public enum MuLaw {
    /// The codeword of silence (linear 0).
    public static let silence: UInt8 = 0xFF

    /// Decodes one codeword to a 16-bit linear sample.
    @inlinable
    public static func decode(_ codeword: UInt8) -> Int16 {
        decodeTable[Int(codeword)]
    }

    /// Encodes one 16-bit linear sample to its codeword.
    @inlinable
    public static func encode(_ sample: Int16) -> UInt8 {
        // The 14 most significant bits select the codeword; the lowest two never change it.
        encodeTable[Int(UInt16(bitPattern: sample) >> 2)]
    }

    /// Decodes a buffer of codewords.
    public static func decode(_ codewords: some Collection<UInt8>) -> [Int16] {
        codewords.map { decodeTable[Int($0)] }
    }

    /// Encodes a buffer of linear samples.
    public static func encode(_ samples: some Collection<Int16>) -> [UInt8] {
        samples.map { encode($0) }
    }

    /// The 256 decoded values, indexed by codeword.
    @usableFromInline
    static let decodeTable: [Int16] = (0...255).map { referenceDecode(UInt8($0)) }

    /// Codeword for each 14-bit value, indexed by the sample's top 14 bits as an unsigned number.
    @usableFromInline
    static let encodeTable: [UInt8] = (0..<16384).map { index in
        // Sign-extend the 14-bit index back to a signed 14-bit value.
        let value14 = index >= 8192 ? index - 16384 : index
        return referenceEncode(fourteenBit: value14)
    }

    private static let bias = 0x84
    private static let clip = 8159
    private static let segmentEnds = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]

    /// G.711 expansion: codeword to linear (16-bit scale).
    static func referenceDecode(_ codeword: UInt8) -> Int16 {
        let inverted = Int(~codeword)
        var magnitude = ((inverted & 0x0F) << 3) + bias
        magnitude <<= (inverted & 0x70) >> 4
        return Int16((inverted & 0x80) != 0 ? bias - magnitude : magnitude - bias)
    }

    /// G.711 compression of a signed 14-bit value.
    static func referenceEncode(fourteenBit value: Int) -> UInt8 {
        var magnitude = value
        let mask: Int
        if magnitude < 0 {
            magnitude = -magnitude
            mask = 0x7F
        } else {
            mask = 0xFF
        }
        magnitude = min(magnitude, clip) + (bias >> 2)
        guard let segment = segmentEnds.firstIndex(where: { magnitude <= $0 }) else {
            return UInt8(0x7F ^ mask)
        }
        let codeword = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
        return UInt8(codeword ^ mask)
    }
}
