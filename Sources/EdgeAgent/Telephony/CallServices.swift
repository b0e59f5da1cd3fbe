public import LocalStore
public import Logging

/// What every call shares: the store, the providers and the tools. All safe for concurrent use.
public struct CallServices: Sendable {
    public let calls: CallLog
    public let customers: CustomerDirectory
    public let engine: ConversationEngine
    public let recognizer: any SpeechRecognizer
    public let synthesizer: any SpeechSynthesizer
    public let phrases: PhraseBook
    public let policy: ReservationPolicy
    public let restaurantName: String
    public let streamTokens: StreamTokens
    public let metrics: AgentMetrics
    public let logger: Logger
    /// Where sessions report what happened to their calls (for observers such as tests and the demo).
    public let events: AsyncStream<CallEvent>.Continuation

    public init(
        calls: CallLog, customers: CustomerDirectory, engine: ConversationEngine, recognizer: any SpeechRecognizer,
        synthesizer: any SpeechSynthesizer, phrases: PhraseBook, policy: ReservationPolicy, restaurantName: String,
        streamTokens: StreamTokens, metrics: AgentMetrics, logger: Logger,
        events: AsyncStream<CallEvent>.Continuation
    ) {
        self.calls = calls
        self.customers = customers
        self.engine = engine
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self.phrases = phrases
        self.policy = policy
        self.restaurantName = restaurantName
        self.streamTokens = streamTokens
        self.metrics = metrics
        self.logger = logger
        self.events = events
    }
}

/// Something that happened to a call, for observers.
public enum CallEvent: Sendable, Equatable {
    /// The call's session has ended and everything about it is stored.
    case ended(callID: String)
}
