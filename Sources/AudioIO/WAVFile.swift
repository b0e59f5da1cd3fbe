import Foundation

/// A WAV file's audio as 16-bit mono samples, for caller audio given as a file or made by espeak-ng.
public struct WAVFile: Sendable, Equatable {
    public let sampleRate: Int
    public let samples: [Int16]

    /// Why a file was refused.
    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Reads PCM 16-bit or mu-law WAV (mono, or the first channel of several).
    public init(data: [UInt8]) throws(FormatError) {
        guard data.count >= 12, data.starts(with: Array("RIFF".utf8)), Array(data[8..<12]) == Array("WAVE".utf8) else {
            throw FormatError(description: "not a RIFF/WAVE file")
        }
        func u16(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        var offset = 12
        var format: (code: Int, channels: Int, rate: Int, bits: Int)?
        while offset + 8 <= data.count {
            let id = String(decoding: data[offset..<offset + 4], as: UTF8.self)
            let size = u32(offset + 4)
            let body = offset + 8
            if id == "fmt ", body + 16 <= data.count {
                format = (u16(body), u16(body + 2), u32(body + 4), u16(body + 14))
            } else if id == "data" {
                guard let format else { throw FormatError(description: "the data chunk comes before fmt") }
                let end = min(body + size, data.count)
                let frameBytes = format.channels * format.bits / 8
                guard frameBytes > 0 else { throw FormatError(description: "a WAV file with no channels") }
                switch (format.code, format.bits) {
                case (1, 16):
                    samples = stride(from: body, to: end - frameBytes + 1, by: frameBytes).map {
                        Int16(bitPattern: UInt16(u16($0)))
                    }
                case (7, 8):
                    samples = stride(from: body, to: end - frameBytes + 1, by: frameBytes).map {
                        MuLaw.decode(data[$0])
                    }
                default:
                    throw FormatError(description: "only 16-bit PCM and mu-law WAV files are supported")
                }
                sampleRate = format.rate
                return
            }
            offset = body + size + (size & 1)
        }
        throw FormatError(description: "a WAV file without audio data")
    }

    /// The audio as 8 kHz mu-law, resampled when needed.
    public func telephoneAudio() throws -> [UInt8] {
        let resampled =
            sampleRate == TelephoneAudio.sampleRate
            ? samples : try Resampler.resample(samples, from: sampleRate, to: TelephoneAudio.sampleRate)
        return MuLaw.encode(resampled)
    }
}
