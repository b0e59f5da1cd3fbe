import Foundation
import Hummingbird
import NIOConcurrencyHelpers

@testable import EdgeAgent

/// Twilio's REST API for recordings, as upstream-apis.md §1.4 and §4.4 describe it: `GET
/// /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.wav` with HTTP Basic credentials
/// answers the WAV (two channels, 8 kHz, 16-bit PCM, sent in pieces), `DELETE …/{RecordingSid}.json`
/// answers 204, and an unknown recording answers 404 with Twilio's JSON error (code 20404).
final class TwilioRecordingDouble: Sendable {
    /// What the next downloads do, in order; once used up, downloads succeed.
    enum Fault: Sendable {
        case serverError
        /// Half the audio, then a clean end (a transfer cut short).
        case truncated
        /// An HTML page with status 200.
        case garbage
    }

    static let accountSID = "AC00000000000000000000000000000001"
    /// Twilio signs webhooks with the same token the REST API takes.
    static let authToken = testAuthToken

    /// The recordings Twilio holds, by RecordingSid.
    let recordings: NIOLockedValueBox<[String: [UInt8]]>
    let faults: NIOLockedValueBox<[Fault]>
    let downloads = NIOLockedValueBox<[String]>([])
    let deletions = NIOLockedValueBox<[String]>([])
    let unauthorized = NIOLockedValueBox(0)

    init(recordings: [String: [UInt8]], faults: [Fault] = []) {
        self.recordings = NIOLockedValueBox(recordings)
        self.faults = NIOLockedValueBox(faults)
    }

    var router: Router<BasicRequestContext> {
        let router = Router()
        let prefix = "/2010-04-01/Accounts/\(Self.accountSID)/Recordings"
        router.get("\(prefix)/:file") { request, context -> Response in
            guard self.authorized(request) else { return Self.error(401, code: 20003) }
            let file = try context.parameters.require("file")
            guard file.hasSuffix(".wav") else { return Self.error(404, code: 20404) }
            let sid = String(file.dropLast(4))
            self.downloads.withLockedValue { $0.append(sid) }
            guard let wav = self.recordings.withLockedValue({ $0[sid] }) else { return Self.error(404, code: 20404) }
            let fault = self.faults.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
            switch fault {
            case .serverError:
                return Self.error(500, code: 20500)
            case .garbage:
                return Response(
                    status: .ok, headers: [.contentType: "text/html"],
                    body: .init(byteBuffer: ByteBuffer(string: "<html><body>Service Unavailable</body></html>")))
            case .truncated, nil:
                let bytes = fault == .truncated ? Array(wav.prefix(wav.count / 2)) : wav
                return Response(
                    status: .ok, headers: [.contentType: "audio/x-wav"],
                    body: .init { writer in
                        // Pieces of 4,001 bytes: never aligned to the header or to a frame.
                        var index = 0
                        while index < bytes.count {
                            let end = min(index + 4001, bytes.count)
                            try await writer.write(ByteBuffer(bytes: bytes[index..<end]))
                            index = end
                        }
                        try await writer.finish(nil)
                    })
            }
        }
        router.delete("\(prefix)/:file") { request, context -> Response in
            guard self.authorized(request) else { return Self.error(401, code: 20003) }
            let file = try context.parameters.require("file")
            let sid = String(file.dropLast(".json".count))
            guard file.hasSuffix(".json"), self.recordings.withLockedValue({ $0.removeValue(forKey: sid) }) != nil
            else { return Self.error(404, code: 20404) }
            self.deletions.withLockedValue { $0.append(sid) }
            return Response(status: .noContent)
        }
        return router
    }

    private func authorized(_ request: Request) -> Bool {
        let expected = "Basic " + Data("\(Self.accountSID):\(Self.authToken)".utf8).base64EncodedString()
        guard request.headers[.authorization] == expected else {
            unauthorized.withLockedValue { $0 += 1 }
            return false
        }
        return true
    }

    static func error(_ status: Int, code: Int) -> Response {
        let body =
            #"{"code":\#(code),"message":"error","more_info":"https://www.twilio.com/docs/errors/\#(code)","status":\#(status)}"#
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A two-channel 8 kHz 16-bit WAV: a 440 Hz tone on the first channel for the first half, a 660 Hz
    /// tone on the second channel for the second half, silence elsewhere; a LIST chunk before the audio,
    /// as some writers add.
    static func dualChannelWAV(seconds: Double) -> [UInt8] {
        let frames = Int(seconds * 8000)
        var pcm = [UInt8]()
        pcm.reserveCapacity(frames * 4)
        for index in 0..<frames {
            let time = Double(index) / 8000
            let first = index < frames / 2 ? Int16(8000 * sin(2 * .pi * 440 * time)) : 0
            let second = index >= frames / 2 ? Int16(8000 * sin(2 * .pi * 660 * time)) : 0
            for sample in [first, second] {
                let bits = UInt16(bitPattern: sample)
                pcm += [UInt8(bits & 0xFF), UInt8(bits >> 8)]
            }
        }
        func u32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8((value >> ($0 * 8)) & 0xFF) } }
        func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
        let format = u16(1) + u16(2) + u32(8000) + u32(32000) + u16(4) + u16(16)
        let list = Array("INFOISFT".utf8) + Array("twilio\0\0".utf8)
        let body =
            Array("WAVE".utf8) + Array("fmt ".utf8) + u32(format.count) + format + Array("LIST".utf8)
            + u32(list.count) + list + Array("data".utf8) + u32(pcm.count) + pcm
        return Array("RIFF".utf8) + u32(body.count) + body
    }
}
