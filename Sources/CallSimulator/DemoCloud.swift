import AudioIO
import EdgeAgent
import Foundation
public import Hummingbird
import Synchronization

/// Stand-ins for the cloud services, so `edge-agent demo` shows a whole call with no accounts and no
/// network. They speak the real wire formats (chat completions over SSE, `/audio/transcriptions`,
/// ElevenLabs mu-law streaming) on a loopback port, and follow one booking conversation:
///
/// - the "model" answers from where the conversation stands (so any number of calls can run at once):
///   first it checks availability, then asks for a name, books, confirms, and says goodbye;
/// - the "recognizer" knows the demo caller's lines and picks the one closest in length to the audio;
/// - the "voice" is a soft tone, 90 ms per word.
public struct DemoCloud: Sendable {
    /// The caller's lines, in order.
    public static let callerLines = [
        "Hi, I'd like a table for four tomorrow at seven thirty.", "It's under Ada Lovelace.",
        "No thanks, that's all I needed for today.",
    ]

    /// Seconds of speech of each caller line, measured when the demo starts.
    let lineDurations: [Double]
    let tomorrow: String

    public init(lineDurations: [Double], tomorrow: String) {
        self.lineDurations = lineDurations
        self.tomorrow = tomorrow
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/chat/completions") { request, _ in
            let body = try await request.body.collect(upTo: 4 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            let messages = object?["messages"] as? [[String: Any]] ?? []
            return Self.eventStream(answer(to: messages))
        }
        router.post("/v1/audio/transcriptions") { request, _ in
            let body = Array(try await request.body.collect(upTo: 16 << 20).readableBytesView)
            let seconds = Self.speechSeconds(inWAVForm: body)
            let index = lineDurations.enumerated().min { abs($0.element - seconds) < abs($1.element - seconds) }?.offset
            let text = index.map { Self.callerLines[$0] } ?? ""
            let json = try JSONSerialization.data(withJSONObject: ["text": text])
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        router.post("/v1/text-to-speech/:voice/stream") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            let words = ((object?["text"] as? String) ?? "").split(separator: " ").count
            let audio = (0..<(max(1, words) * 90 * 8)).map { index in
                MuLaw.encode(Int16(3000 * sin(Double(index) * 2 * .pi * 330 / 8000)))
            }
            return Response(
                status: .ok, headers: [.contentType: "audio/basic"], body: .init(byteBuffer: ByteBuffer(bytes: audio)))
        }
    }

    /// Seconds of loud audio (20 ms windows above 1,500) in the 16-bit WAV of a multipart form: the
    /// same measure the demo applies to the caller's lines.
    static func speechSeconds(inWAVForm body: [UInt8]) -> Double {
        guard let riff = body.firstRange(of: Array("RIFF".utf8)),
            let wav = try? WAVFile(data: Array(body[riff.lowerBound...]))
        else { return 0 }
        let loud = stride(from: 0, to: wav.samples.count, by: 160).filter { start in
            wav.samples[start..<min(start + 160, wav.samples.count)].contains { abs(Int($0)) > 1500 }
        }
        return Double(loud.count) * 0.02
    }

    /// What the demo "model" says next, from the conversation so far.
    func answer(to messages: [[String: Any]]) -> Answer {
        let last = messages.last ?? [:]
        let userTurns = messages.filter { $0["role"] as? String == "user" }.count
        if last["role"] as? String == "tool" {
            let content = last["content"] as? String ?? ""
            if content.contains("\"available\":true") {
                return .text(
                    "Good news, we have a table for four tomorrow at seven thirty. What name should I put it under?")
            }
            if content.contains("\"reservation_id\"") {
                return .text(
                    "You're all set, Ada. A table for four tomorrow at seven thirty. Anything else I can do for you?")
            }
            if content.contains("\"status\":\"ending\"") { return .text("") }
            return .text("I'm sorry, that time is not available. Would another time work?")
        }
        switch userTurns {
        case 1:
            return .tool("check_availability", #"{"date":"\#(tomorrow)","time":"19:30","party_size":4}"#)
        case 2:
            return .tool(
                "create_reservation", #"{"name":"Ada Lovelace","party_size":4,"date":"\#(tomorrow)","time":"19:30"}"#)
        default:
            return .tool("end_call", "{}", text: "Thank you for calling, see you tomorrow. Goodbye!")
        }
    }

    /// One answer of the stand-in model.
    enum Answer {
        case text(String)
        case tool(String, String, text: String? = nil)
    }

    static func eventStream(_ answer: Answer) -> Response {
        func event(_ delta: [String: Any], finish: String? = nil) -> String {
            let chunk: [String: Any] = [
                "object": "chat.completion.chunk",
                "choices": [["index": 0, "delta": delta, "finish_reason": finish as Any]],
            ]
            let data = try! JSONSerialization.data(withJSONObject: chunk)
            return "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
        }
        var events = ""
        switch answer {
        case .text(let text):
            for (index, word) in text.split(separator: " ").enumerated() {
                events += event(["content": index == 0 ? String(word) : " " + word])
            }
            events += event([:], finish: "stop")
        case .tool(let name, let arguments, let text):
            if let text { events += event(["content": text]) }
            events += event([
                "tool_calls": [
                    [
                        "index": 0, "id": "call_\(UUID().uuidString.prefix(8))", "type": "function",
                        "function": ["name": name, "arguments": arguments],
                    ]
                ]
            ])
            events += event([:], finish: "tool_calls")
        }
        events += "data: [DONE]\n\n"
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: .init(byteBuffer: ByteBuffer(string: events)))
    }
}
