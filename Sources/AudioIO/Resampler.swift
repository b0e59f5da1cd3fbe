import CSpeexDSP

/// Sample-rate conversion with SpeexDSP's resampler (for example espeak-ng's 22,050 Hz to 8 kHz).
public enum Resampler {
    /// A resampler that could not be made.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Converts mono 16-bit audio from one rate to another, at voice quality.
    public static func resample(_ samples: [Int16], from input: Int, to output: Int) throws(Failure) -> [Int16] {
        guard input > 0, output > 0 else { throw Failure(description: "sample rates must be positive") }
        guard !samples.isEmpty, input != output else { return samples }
        var error: Int32 = 0
        guard let state = speex_resampler_init(1, UInt32(input), UInt32(output), 5, &error), error == 0 else {
            throw Failure(description: "SpeexDSP refused \(input) Hz to \(output) Hz (error \(error))")
        }
        defer { speex_resampler_destroy(state) }
        var result = [Int16](repeating: 0, count: samples.count * output / input + 64)
        var consumed = UInt32(samples.count)
        var produced = UInt32(result.count)
        samples.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                _ = speex_resampler_process_int(state, 0, source.baseAddress, &consumed, target.baseAddress, &produced)
            }
        }
        return Array(result.prefix(Int(produced)))
    }
}
