/// Reads a WAV file as it arrives (a download, a pipe) without holding it whole: bytes in, interleaved
/// 16-bit samples out. Accepts 16-bit PCM and 8-bit mu-law (also inside `WAVE_FORMAT_EXTENSIBLE`), any
/// rate, one or more channels; chunks other than `fmt ` and `data` are skipped.
public struct WAVStreamDecoder: Sendable {
    /// What the `fmt ` chunk says.
    public struct Format: Sendable, Equatable {
        public var sampleRate: Int
        public var channels: Int
        /// `1` 16-bit PCM, `7` mu-law.
        public var encoding: Int
    }

    /// Why a stream was refused; says what was found.
    public struct FormatError: Error, CustomStringConvertible, Sendable, Equatable {
        public let description: String
        /// The bytes stopped early (a cut download, perhaps worth another try), rather than being
        /// something other than a supported WAV file.
        public let isTruncated: Bool

        public init(description: String, isTruncated: Bool = false) {
            self.description = description
            self.isTruncated = isTruncated
        }
    }

    private enum Stage {
        case riff
        case chunkHeader
        case skipping(Int)
        case format(size: Int)
        case audio(remaining: Int?)
        case trailing
    }

    /// Known once the `fmt ` chunk has been read.
    public private(set) var format: Format?
    /// Interleaved samples decoded so far.
    public private(set) var samplesDecoded = 0
    private var stage = Stage.riff
    private var pending: [UInt8] = []

    public init() {}

    /// Takes the next bytes; returns the samples they complete (interleaved, `format.channels` per frame).
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(FormatError) -> [Int16] {
        pending.append(contentsOf: bytes)
        var samples: [Int16] = []
        var offset = 0
        parsing: while true {
            let available = pending.count - offset
            switch stage {
            case .riff:
                guard available >= 12 else { break parsing }
                guard pending[offset..<offset + 4].elementsEqual("RIFF".utf8),
                    pending[offset + 8..<offset + 12].elementsEqual("WAVE".utf8)
                else {
                    throw FormatError(
                        description: "not a WAV file (it starts with \(Self.describe(pending.prefix(12))))")
                }
                offset += 12
                stage = .chunkHeader
            case .chunkHeader:
                guard available >= 8 else { break parsing }
                let id = String(decoding: pending[offset..<offset + 4], as: UTF8.self)
                let size = Self.u32(pending, offset + 4)
                offset += 8
                switch id {
                case "fmt ":
                    guard size >= 16, size <= 1024 else {
                        throw FormatError(description: "the WAV format chunk is \(size) bytes")
                    }
                    stage = .format(size: size)
                case "data":
                    guard format != nil else {
                        throw FormatError(description: "the WAV data chunk comes before its format")
                    }
                    // Streaming writers leave the size at 0 or 0xFFFFFFFF: the data then runs to the end.
                    stage = .audio(remaining: size == 0 || size == 0xFFFF_FFFF ? nil : size)
                default:
                    stage = .skipping(size + (size & 1))
                }
            case .skipping(let count):
                let skipped = min(count, available)
                offset += skipped
                guard skipped == count else {
                    stage = .skipping(count - skipped)
                    break parsing
                }
                stage = .chunkHeader
            case .format(let size):
                let padded = size + (size & 1)
                guard available >= padded else { break parsing }
                format = try Self.parseFormat(pending[offset..<offset + size])
                offset += padded
                stage = .chunkHeader
            case .audio(let remaining):
                guard let format else { break parsing }
                let frameBytes = format.channels * (format.encoding == 1 ? 2 : 1)
                var usable = available - available % frameBytes
                if let remaining { usable = min(usable, remaining - remaining % frameBytes) }
                guard usable > 0 else {
                    if let remaining, remaining < frameBytes {
                        offset += min(remaining, available)
                        stage = remaining <= available ? .trailing : .audio(remaining: remaining - available)
                    }
                    break parsing
                }
                samples += Self.decode(pending[offset..<offset + usable], encoding: format.encoding)
                offset += usable
                if let remaining {
                    let left = remaining - usable
                    stage = left == 0 ? .trailing : .audio(remaining: left)
                }
            case .trailing:
                // Chunks after the audio (LIST tags) carry nothing to play.
                offset = pending.count
                break parsing
            }
        }
        pending.removeFirst(offset)
        samplesDecoded += samples.count
        return samples
    }

    /// Checks that the stream held a format and audio; call when the bytes end.
    public func finish() throws(FormatError) {
        guard format != nil else {
            throw FormatError(description: "the WAV file ended before its format chunk", isTruncated: true)
        }
        switch stage {
        case .audio(let remaining?) where remaining > 0:
            throw FormatError(
                description: "the WAV file ended \(remaining) bytes before the end of its audio", isTruncated: true)
        case .audio, .trailing:
            return
        default:
            throw FormatError(description: "the WAV file ended before its audio", isTruncated: true)
        }
    }

    static func parseFormat(_ chunk: ArraySlice<UInt8>) throws(FormatError) -> Format {
        let bytes = Array(chunk)
        var code = Self.u16(bytes, 0)
        let channels = Self.u16(bytes, 2)
        let rate = Self.u32(bytes, 4)
        let bits = Self.u16(bytes, 14)
        // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
        if code == 0xFFFE, bytes.count >= 26 { code = Self.u16(bytes, 24) }
        guard (1...8).contains(channels) else { throw FormatError(description: "a WAV file with \(channels) channels") }
        guard (4000...192_000).contains(rate) else { throw FormatError(description: "a WAV file at \(rate) Hz") }
        switch (code, bits) {
        case (1, 16), (7, 8):
            return Format(sampleRate: rate, channels: channels, encoding: code)
        default:
            throw FormatError(
                description: "a WAV file of format \(code) with \(bits) bits; only 16-bit PCM and mu-law are supported")
        }
    }

    static func decode(_ bytes: ArraySlice<UInt8>, encoding: Int) -> [Int16] {
        if encoding == 7 { return MuLaw.decode(bytes) }
        var samples = [Int16]()
        samples.reserveCapacity(bytes.count / 2)
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            samples.append(Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8))
            index += 2
        }
        return samples
    }

    static func u16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    static func u32(_ bytes: [UInt8], _ at: Int) -> Int { u16(bytes, at) | u16(bytes, at + 2) << 16 }

    static func describe(_ bytes: ArraySlice<UInt8>) -> String {
        let printable = bytes.allSatisfy { (0x20..<0x7F).contains($0) }
        if printable, !bytes.isEmpty { return "\"\(String(decoding: bytes, as: UTF8.self))\"" }
        return bytes.map { String($0, radix: 16) }.joined(separator: " ")
    }
}
