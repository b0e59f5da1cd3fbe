/// A voicemail a caller left with headquarters while the box could not be reached (Twilio's fallback
/// URL): written at headquarters once the recording is imported, downloaded by the box as a staff
/// message. Immutable: always version 1.
public struct Voicemail: Codable, Sendable, Equatable, Identifiable {
    /// `vm_` and Twilio's recording SID, so a repeated callback is the same row.
    public var id: String
    /// Twilio's call SID of the call that left it.
    public var callSID: String
    /// The caller's number as Twilio gave it (E.164), when it gave one.
    public var caller: String?
    /// `en` or `es`: the language the caller was answered in.
    public var language: String
    /// How long the recording is, in seconds.
    public var durationSeconds: Int
    /// When the caller called, Unix ms.
    public var calledAt: Int64
    public var version: Int64

    public init(
        id: String, callSID: String, caller: String?, language: String, durationSeconds: Int, calledAt: Int64,
        version: Int64 = 1
    ) {
        self.id = id
        self.callSID = callSID
        self.caller = caller
        self.language = language
        self.durationSeconds = durationSeconds
        self.calledAt = calledAt
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case id
        case callSID = "call_sid"
        case caller
        case language
        case durationSeconds = "duration_seconds"
        case calledAt = "called_at"
        case version
    }
}
