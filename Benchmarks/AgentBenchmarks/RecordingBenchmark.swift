import AudioIO
import CallRecording
import EdgeAgent
import Foundation

/// `edge-agent recordings bench`: what recording costs a call. Records calls of two-channel telephone
/// audio (speech-like tones on both sides, in 20 ms frames as a live call delivers them) through the
/// real encoder and encryption into a temporary folder, and reports the processor time per second of
/// call as a share of one core.
public struct RecordingBenchmark: Sendable {
    /// What the benchmark measured.
    public struct Results: Sendable, CustomStringConvertible {
        public var calls = 0
        public var secondsPerCall = 0
        /// Processor time spent per second of recorded call, as a share of one core.
        public var coreShare = 0.0
        /// Bytes of encrypted recording per second of call.
        public var bytesPerSecond = 0.0

        public var description: String {
            String(
                format: "recording %d calls of %d s: %.2f %% of one core per call, %.1f kB per second of call",
                calls, secondsPerCall, coreShare * 100, bytesPerSecond / 1000)
        }
    }

    let calls: Int
    let secondsPerCall: Int

    public init(calls: Int = 10, secondsPerCall: Int = 60) {
        self.calls = calls
        self.secondsPerCall = secondsPerCall
    }

    public func run() async throws -> Results {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("edge-agent-rec-bench-\(UUID())")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let identity = try RecordingIdentity.generate()
        let frames = secondsPerCall * 50
        let caller = (0..<50).map { frame in
            (0..<160).map { MuLaw.encode(Int16(6000 * sin(Double(frame * 160 + $0) * 0.31))) }
        }
        let agent = (0..<50).map { frame in
            (0..<160).map { MuLaw.encode(Int16(6000 * sin(Double(frame * 160 + $0) * 0.57))) }
        }
        var bytes = 0
        let cpuBefore = Self.processorSeconds()
        for call in 0..<calls {
            let start = ContinuousClock.now
            let recorder = try CallRecorder(
                path: "\(folder)/\(call).rec", ownerPublicKey: identity.publicKey, start: start)
            for frame in 0..<frames {
                await recorder.caller(caller[frame % 50], timestampMilliseconds: frame * 20)
                await recorder.agent(agent[frame % 50], at: start + .milliseconds(frame * 20))
            }
            bytes += await recorder.finish().sizeBytes
        }
        let cpu = Self.processorSeconds() - cpuBefore
        let callSeconds = Double(calls * secondsPerCall)
        return Results(
            calls: calls, secondsPerCall: secondsPerCall, coreShare: cpu / callSeconds,
            bytesPerSecond: Double(bytes) / callSeconds)
    }

    /// User and system processor time of this process so far.
    static func processorSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
