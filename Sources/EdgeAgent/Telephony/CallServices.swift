public import AudioIO
public import LocalStore
public import Logging
import Resilience
public import Tracing

/// What every call shares: the store, the providers and the tools. All safe for concurrent use.
public struct CallServices: Sendable {
    public let calls: CallLog
    public let customers: CustomerDirectory
    public let engine: ConversationEngine
    public let recognizer: any SpeechRecognizer
    /// Everything the agent says goes through it: the phrase cache, the cloud voice, the local voice.
    public let speech: SpeechOutput
    public let phrases: PhraseBook
    /// The phrase catalog per language, for sentences composed from cached fragments.
    public let catalogs: [String: PhraseCatalog]
    /// The booking rules in force now (they change when headquarters sends new settings).
    public var policy: ReservationPolicy { book.policies.current }
    /// The book, for the keypad flow's bookings.
    public let book: ReservationBook
    /// The cloud providers' circuits, to know when speech understanding is back; nil in tests without them.
    public let upstreams: Upstreams?
    /// The longest a caller waits in silence after they stop speaking.
    public let silenceBudget: Duration
    /// How long a call stays on the keypad before speech is tried again.
    public let keypadRetryAfter: Duration
    /// Call recording, when an owner's public key is configured and recording is on.
    public let recordings: CallRecordings?
    public let restaurantName: String
    public let streamTokens: StreamTokens
    public let metrics: AgentMetrics
    public let logger: Logger
    /// Where sessions report what happened to their calls (for observers such as tests and the demo).
    public let events: AsyncStream<CallEvent>.Continuation
    /// Where each answered turn's spans go (see ``TurnTracer``): the OTLP exporter's tracer when
    /// `tracing.otlp_endpoint` is set, a no-op tracer otherwise, an in-memory one in tests.
    public let tracer: any Tracer
    /// How the caller's audio is cleaned and when their sound interrupts the agent.
    public let listening: CallerListener.Settings
    /// Whether `transfer_to_staff` can put a caller through (a staff number and Twilio are set up):
    /// an upset caller is offered a person only then, a call-back otherwise.
    public var canTransfer: Bool
    /// Text confirmations: how they are written, their queue and the sender's wake-up; nil when
    /// texts are not set up.
    public let texts: (writer: TextConfirmationWriter, queue: TextConfirmations, signal: TextQueueSignal)?

    public init(
        calls: CallLog, customers: CustomerDirectory, engine: ConversationEngine, recognizer: any SpeechRecognizer,
        speech: SpeechOutput, phrases: PhraseBook, catalogs: [String: PhraseCatalog],
        book: ReservationBook, upstreams: Upstreams?, silenceBudget: Duration = .milliseconds(1500),
        keypadRetryAfter: Duration = .seconds(20), recordings: CallRecordings? = nil, restaurantName: String,
        streamTokens: StreamTokens, metrics: AgentMetrics, logger: Logger,
        events: AsyncStream<CallEvent>.Continuation, tracer: any Tracer = NoOpTracer(),
        listening: CallerListener.Settings = CallerListener.Settings(), canTransfer: Bool = false,
        texts: (writer: TextConfirmationWriter, queue: TextConfirmations, signal: TextQueueSignal)? = nil
    ) {
        self.texts = texts
        self.listening = listening
        self.canTransfer = canTransfer
        self.calls = calls
        self.customers = customers
        self.engine = engine
        self.recognizer = recognizer
        self.speech = speech
        self.phrases = phrases
        self.catalogs = catalogs
        self.book = book
        self.upstreams = upstreams
        self.silenceBudget = silenceBudget
        self.keypadRetryAfter = keypadRetryAfter
        self.recordings = recordings
        self.restaurantName = restaurantName
        self.streamTokens = streamTokens
        self.metrics = metrics
        self.logger = logger
        self.events = events
        self.tracer = tracer
    }
}

/// Something that happened to a call, for observers.
public enum CallEvent: Sendable, Equatable {
    /// The call's session has ended and everything about it is stored.
    case ended(callID: String)
}
