import Foundation

/// A message Twilio sends on a Media Stream (JSON text frames with an `event` discriminator).
public enum MediaStreamInbound: Sendable, Equatable {
    /// First message: the protocol and its version.
    case connected(protocolName: String, version: String)
    /// The stream starts: ids and the `<Parameter>`s of the TwiML.
    case start(Start)
    /// 20 ms (usually) of caller audio, mu-law 8 kHz, decoded from Base64.
    case media(Media)
    /// A key the caller pressed.
    case dtmf(digit: String)
    /// Twilio has played everything sent before the mark of this name (or cleared it).
    case mark(name: String)
    /// The stream stopped (the call ended).
    case stop(callSid: String?)
    /// An event this agent does not know; logged and ignored.
    case unknown(event: String)

    /// The `start` message's contents.
    public struct Start: Sendable, Equatable {
        public var streamSid: String
        public var callSid: String
        public var accountSid: String?
        public var customParameters: [String: String]
        public var encoding: String
        public var sampleRate: Int
        public var channels: Int
    }

    /// The `media` message's contents.
    public struct Media: Sendable, Equatable {
        public var track: String
        public var chunk: Int
        /// Milliseconds from the start of the stream.
        public var timestamp: Int
        public var payload: [UInt8]
    }

    /// The largest audio payload accepted in one message (Twilio sends 160 bytes).
    public static let maximumPayloadBytes = 8_000

    /// Why a message was refused; logged with the call id, never fatal to other calls.
    public struct DecodingFailure: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "malformed Media Streams message: \(reason)" }
    }

    /// Decodes one text frame.
    public static func decode(_ text: String) throws(DecodingFailure) -> MediaStreamInbound {
        guard text.utf8.count <= 64 * 1024 else { throw DecodingFailure(reason: "message larger than 64 KiB") }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw DecodingFailure(reason: "not a JSON object")
            }
            object = parsed
        } catch let failure as DecodingFailure {
            throw failure
        } catch {
            throw DecodingFailure(reason: "not JSON")
        }
        guard let event = object["event"] as? String else { throw DecodingFailure(reason: "no event") }
        switch event {
        case "connected":
            return .connected(
                protocolName: object["protocol"] as? String ?? "", version: object["version"] as? String ?? "")
        case "start":
            guard let start = object["start"] as? [String: Any],
                let streamSid = start["streamSid"] as? String ?? object["streamSid"] as? String,
                let callSid = start["callSid"] as? String
            else { throw DecodingFailure(reason: "start without streamSid or callSid") }
            // The stream id is echoed into every outbound message: letters and digits only.
            guard (2...64).contains(streamSid.count),
                streamSid.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            else { throw DecodingFailure(reason: "streamSid is not a Twilio id") }
            let format = start["mediaFormat"] as? [String: Any] ?? [:]
            let parameters = (start["customParameters"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
            return .start(
                Start(
                    streamSid: streamSid, callSid: callSid, accountSid: start["accountSid"] as? String,
                    customParameters: parameters, encoding: format["encoding"] as? String ?? "audio/x-mulaw",
                    sampleRate: format["sampleRate"] as? Int ?? 8000, channels: format["channels"] as? Int ?? 1))
        case "media":
            guard let media = object["media"] as? [String: Any], let base64 = media["payload"] as? String else {
                throw DecodingFailure(reason: "media without payload")
            }
            guard base64.utf8.count <= (maximumPayloadBytes / 3 + 1) * 4 else {
                throw DecodingFailure(reason: "media payload larger than \(maximumPayloadBytes) bytes")
            }
            guard let payload = Data(base64Encoded: base64) else {
                throw DecodingFailure(reason: "media payload is not Base64")
            }
            return .media(
                Media(
                    track: media["track"] as? String ?? "inbound", chunk: Int(media["chunk"] as? String ?? "") ?? 0,
                    timestamp: Int(media["timestamp"] as? String ?? "") ?? 0, payload: Array(payload)))
        case "dtmf":
            guard let dtmf = object["dtmf"] as? [String: Any], let digit = dtmf["digit"] as? String,
                digit.count == 1, "0123456789*#ABCD".contains(digit)
            else { throw DecodingFailure(reason: "dtmf without a valid digit") }
            return .dtmf(digit: digit)
        case "mark":
            guard let mark = object["mark"] as? [String: Any], let name = mark["name"] as? String else {
                throw DecodingFailure(reason: "mark without name")
            }
            return .mark(name: name)
        case "stop":
            return .stop(callSid: (object["stop"] as? [String: Any])?["callSid"] as? String)
        default:
            return .unknown(event: String(event.prefix(40)))
        }
    }
}

/// A message the agent sends on a bidirectional Media Stream.
public enum MediaStreamOutbound: Sendable, Equatable {
    /// Audio to play: mu-law 8 kHz bytes (one 20 ms frame at a time from the pacer).
    case media([UInt8])
    /// A marker after the audio sent so far; Twilio echoes it when that audio has played.
    case mark(name: String)
    /// Drop all queued audio now (barge-in); Twilio echoes every pending mark.
    case clear

    /// The JSON text frame for stream `streamSid`.
    public func encode(streamSid: String) -> String {
        switch self {
        case .media(let bytes):
            return
                #"{"event":"media","streamSid":"\#(streamSid)","media":{"payload":"\#(Data(bytes).base64EncodedString())"}}"#
        case .mark(let name):
            return #"{"event":"mark","streamSid":"\#(streamSid)","mark":{"name":"\#(Self.escape(name))"}}"#
        case .clear:
            return #"{"event":"clear","streamSid":"\#(streamSid)"}"#
        }
    }

    private static func escape(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\"" && $0 != "\\" && $0.value >= 0x20 }.map(Character.init))
    }
}
