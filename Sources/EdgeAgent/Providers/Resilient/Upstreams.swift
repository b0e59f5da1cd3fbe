public import Logging
public import Resilience

/// One ``Upstream`` per provider, shared by every call, so a provider's circuit, concurrency limit and
/// metrics are the same whoever calls it. Their health shows in `/readyz`.
public struct Upstreams: Sendable {
    public let elevenLabs: Upstream
    public let llm: Upstream
    public let llmFallback: Upstream
    public let deepgram: Upstream
    public let transcription: Upstream
    public let twilio: Upstream
    /// Downloads of Twilio's recordings: minutes of audio, nobody waiting on the line.
    public let twilioMedia: Upstream
    /// Headquarters' sync API: batches of up to a megabyte, nobody waiting on the line.
    public let headquarters: Upstream

    /// Every upstream, for `/readyz` and metrics.
    public var all: [Upstream] {
        [elevenLabs, llm, llmFallback, deepgram, transcription, twilio, twilioMedia, headquarters]
    }

    /// The per-provider policies, tuned for a live call: the first audio or token must come quickly,
    /// because a caller is waiting; the silence watchdog covers the rest.
    public init(configuration: AgentConfiguration.Resilience, metrics: AgentMetrics, logger: Logger) {
        let breaker = CircuitBreakerPolicy(
            failureThreshold: configuration.failureThreshold,
            openDuration: .milliseconds(Int64(configuration.openSeconds * 1000)))
        func upstream(_ name: String, timeout: Duration, attempts: Int) -> Upstream {
            Upstream(
                name: name,
                policy: UpstreamPolicy(
                    requestTimeout: timeout,
                    retry: RetryPolicy(
                        maxAttempts: attempts, baseDelay: .milliseconds(50), maxDelay: .milliseconds(400)),
                    breaker: breaker, maxConcurrent: configuration.maxConcurrent, queueTimeout: .milliseconds(500)),
                logger: logger, metricsFactory: metrics.factory)
        }
        elevenLabs = upstream("elevenlabs", timeout: .milliseconds(1200), attempts: 1)
        llm = upstream("llm", timeout: .seconds(3), attempts: 2)
        llmFallback = upstream("llm_fallback", timeout: .seconds(4), attempts: 1)
        deepgram = upstream("deepgram", timeout: .seconds(2), attempts: 1)
        transcription = upstream("transcription", timeout: .seconds(3), attempts: 2)
        twilio = upstream("twilio_rest", timeout: .seconds(5), attempts: 2)
        twilioMedia = upstream("twilio_media", timeout: .seconds(300), attempts: 2)
        headquarters = upstream("headquarters", timeout: .seconds(60), attempts: 3)
    }

    /// How a failure of each kind of provider error is judged.
    static func classify(_ error: any Error) -> FailureKind {
        switch error {
        case let error as LanguageModelError:
            if let seconds = error.retryAfter, error.status == 429 || error.status == 503 {
                return .retryAfter(.milliseconds(Int64(seconds * 1000)))
            }
            return error.isRetryable ? .retryable : .permanent
        case let error as SpeechSynthesisError:
            return error.isRetryable ? .retryable : .permanent
        case let error as SpeechRecognitionError:
            return error.isRetryable ? .retryable : .permanent
        default:
            return .retryable
        }
    }
}
