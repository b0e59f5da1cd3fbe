import DurableFiles
import Foundation

/// The Twilio number `edge-agent provision --twilio-number` pointed at this box, in
/// `EDGE_DATA_DIR/twilio-number.json` (0600), so `edge-agent doctor` can check that it still does.
public struct ProvisionedNumber: Codable, Sendable, Equatable {
    /// E.164, for example `+15558675309`.
    public var phoneNumber: String
    /// Twilio's `PN…` id of the number.
    public var sid: String
    /// Where calls go: this box's `/twilio/voice`.
    public var voiceURL: String
    /// Where calls go when the box does not answer: headquarters' fallback for the site.
    public var fallbackURL: String?

    public init(phoneNumber: String, sid: String, voiceURL: String, fallbackURL: String?) {
        self.phoneNumber = phoneNumber
        self.sid = sid
        self.voiceURL = voiceURL
        self.fallbackURL = fallbackURL
    }

    enum CodingKeys: String, CodingKey {
        case phoneNumber = "phone_number"
        case sid
        case voiceURL = "voice_url"
        case fallbackURL = "fallback_url"
    }

    public static func path(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("twilio-number.json")
    }

    /// The stored number, nil when none was provisioned (or the file is unreadable).
    public static func load(dataDirectory: String) -> ProvisionedNumber? {
        guard let data = FileManager.default.contents(atPath: path(dataDirectory: dataDirectory)) else { return nil }
        return try? JSONDecoder().decode(ProvisionedNumber.self, from: data)
    }

    /// Writes the record atomically, readable by the agent's user only.
    public func save(dataDirectory: String) throws {
        let path = Self.path(dataDirectory: dataDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try DurableFile.write(Array(try encoder.encode(self)), to: path, permissions: 0o600)
        } catch let error as DurableFileError {
            throw StartupError("\(error): check the data folder's owner and free space")
        }
    }

    /// The phone number as E.164 (`+` and 8 to 15 digits), or nil.
    public static func normalized(_ text: String) -> String? {
        let compact = text.filter { !" -().".contains($0) }
        guard compact.first == "+", (9...16).contains(compact.count), compact.dropFirst().allSatisfy(\.isASCIIDigit)
        else { return nil }
        return compact
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
