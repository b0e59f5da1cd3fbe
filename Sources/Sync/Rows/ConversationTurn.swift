/// One utterance in a call, by the caller or the agent, with the timing of each stage.
public struct ConversationTurn: Codable, Sendable, Equatable, Identifiable {
    /// Who spoke.
    public enum Speaker: String, Codable, Sendable, CaseIterable {
        case caller
        case agent
        case system
    }

    public var id: String
    public var callID: String
    /// Order of the turn within its call, from 1.
    public var sequence: Int
    public var speaker: Speaker
    public var text: String
    public var language: String?
    public var startedAt: Int64
    /// When the caller stopped speaking (caller turns).
    public var endOfSpeechAt: Int64?
    /// When the final transcript arrived.
    public var transcriptFinalAt: Int64?
    /// When the LLM's first token arrived (agent turns).
    public var firstTokenAt: Int64?
    /// When the first audio byte of the answer arrived.
    public var firstAudioAt: Int64?
    /// When the first outbound frame left for Twilio.
    public var firstFrameAt: Int64?
    /// Whether the caller cut this turn off (barge-in).
    public var interrupted: Bool
    /// The part of the text the caller did not hear because of barge-in.
    public var unheardText: String?
    /// How frustrated the caller sounded in this turn, 0 to 1 (caller turns; see the agent's
    /// `CallerMood`).
    public var frustration: Double?

    public init(
        id: String, callID: String, sequence: Int, speaker: Speaker, text: String, language: String? = nil,
        startedAt: Int64, endOfSpeechAt: Int64? = nil, transcriptFinalAt: Int64? = nil, firstTokenAt: Int64? = nil,
        firstAudioAt: Int64? = nil, firstFrameAt: Int64? = nil, interrupted: Bool = false, unheardText: String? = nil,
        frustration: Double? = nil
    ) {
        self.frustration = frustration
        self.id = id
        self.callID = callID
        self.sequence = sequence
        self.speaker = speaker
        self.text = text
        self.language = language
        self.startedAt = startedAt
        self.endOfSpeechAt = endOfSpeechAt
        self.transcriptFinalAt = transcriptFinalAt
        self.firstTokenAt = firstTokenAt
        self.firstAudioAt = firstAudioAt
        self.firstFrameAt = firstFrameAt
        self.interrupted = interrupted
        self.unheardText = unheardText
    }

    enum CodingKeys: String, CodingKey {
        case id
        case callID = "call_id"
        case sequence
        case speaker
        case text
        case language
        case startedAt = "started_at"
        case endOfSpeechAt = "end_of_speech_at"
        case transcriptFinalAt = "transcript_final_at"
        case firstTokenAt = "first_token_at"
        case firstAudioAt = "first_audio_at"
        case firstFrameAt = "first_frame_at"
        case interrupted
        case unheardText = "unheard_text"
        case frustration
    }
}
