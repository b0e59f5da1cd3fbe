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

    public init(
        calls: CallLog, customers: CustomerDirectory, engine: ConversationEngine, recognizer: any SpeechRecognizer,
        synthesizer: any SpeechSynthesizer, phrases: PhraseBook, policy: ReservationPolicy, restaurantName: String,
        streamTokens: StreamTokens, metrics: AgentMetrics, logger: Logger
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
    }
}
