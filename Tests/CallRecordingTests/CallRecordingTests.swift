import AudioIO
import Foundation
import TestSupport
import Testing

@testable import CallRecording

/// A recorded call, made from known tones: the caller speaks first, the agent answers.
struct RecordedCall {
    let folder: String
    let identity: RecordingIdentity
    let path: String
    let summary: CallRecorder.Summary

    /// 400 Hz on the caller's side from 0 to 2 s, 1 kHz on the agent's from 2.5 to 4.5 s, 5 s in all.
    static func make(in folder: String, name: String = "call.rec", identity: RecordingIdentity? = nil) async throws
        -> RecordedCall
    {
        let identity = try identity ?? RecordingIdentity.generate()
        let path = "\(folder)/\(name)"
        let start = ContinuousClock.now
        let recorder = try CallRecorder(path: path, ownerPublicKey: identity.publicKey, start: start)
        for frame in 0..<250 {
            let time = frame * 20
            let tone = time < 2000 ? tone(hertz: 400, at: time) : silence
            await recorder.caller(tone, timestampMilliseconds: time)
            if (2500..<4500).contains(time) {
                await recorder.agent(Self.tone(hertz: 1000, at: time), at: start + .milliseconds(time))
            }
        }
        let summary = await recorder.finish()
        return RecordedCall(folder: folder, identity: identity, path: path, summary: summary)
    }

    static let silence = [UInt8](repeating: MuLaw.silence, count: 160)

    static func tone(hertz: Double, at milliseconds: Int) -> [UInt8] {
        (0..<160).map { index in
            let t = Double(milliseconds * 8 + index) / 8000
            return MuLaw.encode(Int16(9000 * sin(2 * .pi * hertz * t)))
        }
    }

    var bytes: [UInt8] { get throws { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } }

    /// Whether each 20 ms window is loud.
    static func loudWindows(_ samples: [Int16]) -> [Bool] {
        stride(from: 0, to: samples.count - 159, by: 160).map { start in
            let energy = samples[start..<(start + 160)].reduce(0.0) { $0 + Double($1) * Double($1) } / 160
            return energy.squareRoot() > 1500
        }
    }
}

@Suite("Call recording")
struct CallRecordingTests {
    let temporary = TemporaryFolder(prefix: "edge-recording")
    var folder: String { temporary.path }

    @Test("a recorded call decrypts with the owner's key to both sides, in time, in the right channels")
    func roundTrip() async throws {
        let call = try await RecordedCall.make(in: folder)
        #expect(call.summary.complete && call.summary.failure == nil)
        #expect(call.summary.durationMilliseconds == 5000)
        #expect(call.summary.chunks >= 4)
        let bytes = try call.bytes
        #expect(bytes.count == call.summary.sizeBytes)
        // Compact: under a third of the two sides' raw mu-law (80 kB for 5 s).
        #expect(bytes.count < 80_000 / 3)
        let plain = try SealedStreamReader.decrypt(bytes, identity: call.identity)
        #expect(plain.complete)
        #expect(plain.bytes.starts(with: Array("OggS".utf8)))
        let (left, right) = try await OggOpusDecoder.decodeStereo(plain.bytes, folder: folder)
        let caller = RecordedCall.loudWindows(left)
        let agent = RecordedCall.loudWindows(right)
        #expect(caller.count >= 245 && caller.count <= 255, "\(caller.count) windows")
        func expected(_ range: Range<Int>) -> [Bool] { (0..<caller.count).map { range.contains($0 * 20) } }
        func agreement(_ heard: [Bool], _ sent: [Bool]) -> Double {
            Double(zip(heard, sent).filter { $0 == $1 }.count) / Double(sent.count)
        }
        #expect(agreement(caller, expected(0..<2000)) > 0.9)
        #expect(agreement(agent, expected(2500..<4500)) > 0.9)
        // Each side is at least 20 dB louder in its own channel while it speaks than in the other.
        func energy(_ samples: [Int16], _ range: Range<Int>) -> Double {
            let slice = samples[(range.lowerBound * 8)..<min(samples.count, range.upperBound * 8)]
            return slice.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(slice.count, 1))
        }
        #expect(energy(left, 200..<1800) > 100 * energy(right, 200..<1800))
        #expect(energy(right, 2700..<4300) > 100 * energy(left, 2700..<4300))
    }

    @Test("one flipped byte anywhere is refused, and nothing is returned")
    func everyFlippedByte() async throws {
        let call = try await RecordedCall.make(in: folder)
        let bytes = try call.bytes
        var codes: [RecordingFileError.Code: Int] = [:]
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x01
            do {
                _ = try SealedStreamReader.decrypt(damaged, identity: call.identity)
                Issue.record("a flip at byte \(index) was not noticed")
            } catch let error as RecordingFileError {
                codes[error.code, default: 0] += 1
            }
        }
        #expect(codes[.notARecording] == 8)
        #expect(codes[.unsupportedVersion] == 2)
        #expect(codes[.wrongIdentity] ?? 0 >= 80)
        #expect(codes[.headerAltered] ?? 0 >= 16 + 24 + 16)
        #expect(codes[.headerSwapped] ?? 0 >= 16 * call.summary.chunks)
        #expect(codes[.chunkAltered] ?? 0 > 1000)
    }

    @Test("truncation, a missing final tag, the wrong key, a swapped header and another format: each its own error")
    func namedFailures() async throws {
        let call = try await RecordedCall.make(in: folder)
        let bytes = try call.bytes
        func code(_ file: [UInt8], identity: RecordingIdentity? = nil) -> RecordingFileError.Code? {
            do {
                _ = try SealedStreamReader.decrypt(file, identity: identity ?? call.identity)
                return nil
            } catch let error as RecordingFileError {
                return error.code
            } catch {
                return nil
            }
        }
        #expect(code(Array(bytes.dropLast(10))) == .truncated)
        #expect(code(Array(bytes.prefix(60))) == .truncatedHeader)
        #expect(code(bytes, identity: try RecordingIdentity.generate()) == .wrongIdentity)
        #expect(code(bytes + [0]) == .trailingData)

        // Cut at the last chunk boundary: the final tag is missing; allowed as partial, the rest decrypts.
        let lastChunkStart = try lastChunkOffset(bytes)
        let cut = Array(bytes[..<lastChunkStart])
        #expect(code(cut) == .missingFinalTag)
        let partial = try SealedStreamReader.decrypt(cut, identity: call.identity, allowPartial: true)
        #expect(!partial.complete && partial.chunks == call.summary.chunks - 1)
        #expect(partial.bytes.starts(with: Array("OggS".utf8)))

        // Another recording's header (same owner) in front of these chunks.
        let other = try await RecordedCall.make(in: folder, name: "other.rec", identity: call.identity)
        let otherBytes = try other.bytes
        let headerSize = 8 + 1 + 1 + 16 + 2 + 80 + 24 + 16
        #expect(code(Array(otherBytes[..<headerSize]) + bytes[headerSize...]) == .headerSwapped)

        // Other kinds of files are named.
        do {
            _ = try SealedStreamReader.decrypt(Array("OggS\u{0}\u{2}rest".utf8), identity: call.identity)
            Issue.record("an Ogg file was accepted")
        } catch let error as RecordingFileError {
            #expect(error.code == .notARecording)
            #expect(error.message.contains("Ogg"))
        }
    }

    /// The offset of the final chunk's frame.
    func lastChunkOffset(_ bytes: [UInt8]) throws -> Int {
        var offset = 8 + 1 + 1 + 16 + 2 + 80 + 24 + 16
        var last = offset
        while offset < bytes.count {
            last = offset
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            offset += 4 + 16 + length
        }
        return last
    }

    @Test("a call hung up before any audio still makes a complete recording that decrypts")
    func emptyRecording() async throws {
        let identity = try RecordingIdentity.generate()
        let recorder = try CallRecorder(path: "\(folder)/empty.rec", ownerPublicKey: identity.publicKey, start: .now)
        let summary = await recorder.finish()
        #expect(summary.complete && summary.failure == nil)
        #expect(await recorder.finish() == summary)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/empty.rec")))
        #expect(try SealedStreamReader.decrypt(bytes, identity: identity).bytes.starts(with: Array("OggS".utf8)))
    }

    @Test("identity files: made, read back, and refused when damaged or mismatched")
    func identities() throws {
        let identity = try RecordingIdentity.generate()
        let again = try RecordingIdentity(fileText: identity.fileText)
        #expect(again.publicKey == identity.publicKey)
        #expect(try RecordingIdentity.publicKey(base64: identity.publicKeyBase64) == identity.publicKey)
        #expect(throws: RecordingFileError.self) { try RecordingIdentity(fileText: "hello") }
        let other = try RecordingIdentity.generate()
        let mixed =
            identity.fileText.split(separator: "\n").prefix(2).joined(separator: "\n") + "\n"
            + other.fileText.split(separator: "\n")[2]
        #expect { try RecordingIdentity(fileText: mixed) } throws: {
            ($0 as? RecordingFileError)?.message.contains("do not belong together") == true
        }
        #expect(throws: RecordingFileError.self) { try RecordingIdentity.publicKey(base64: "c2hvcnQ=") }
    }

    @Test("the timeline places late and early frames where they belong and mixes overlaps")
    func timeline() {
        var timeline = TwoChannelTimeline()
        timeline.put([1, 1], channel: .caller, at: 0)
        timeline.put([5, 5], channel: .agent, at: 3)
        timeline.put([2], channel: .caller, at: 1)
        #expect(timeline.take(upTo: 4) == [1, 0, 3, 0, 0, 0, 0, 5])
        timeline.put([9], channel: .caller, at: 2)
        #expect(timeline.take(upTo: 6) == [0, 5, 0, 0])
    }
}
