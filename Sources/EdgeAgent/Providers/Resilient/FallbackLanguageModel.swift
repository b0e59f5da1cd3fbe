import CoreMetrics
public import Logging
public import Resilience

/// The model chain: the primary endpoint, then the fallback OpenAI-compatible endpoint (for example a
/// small model on the LAN), each behind its own ``Upstream``. A model that fails before its first token
/// is passed over; when both fail the error reaches the call, which moves to the keypad flow.
public struct FallbackLanguageModel: LanguageModel {
    let primary: any LanguageModel
    let primaryUpstream: Upstream
    let fallback: (any LanguageModel)?
    let fallbackUpstream: Upstream
    let logger: Logger
    let fallbacks: CoreMetrics.Counter

    public init(
        primary: any LanguageModel, primaryUpstream: Upstream, fallback: (any LanguageModel)?,
        fallbackUpstream: Upstream, metrics: AgentMetrics, logger: Logger
    ) {
        self.primary = primary
        self.primaryUpstream = primaryUpstream
        self.fallback = fallback
        self.fallbackUpstream = fallbackUpstream
        self.logger = logger
        fallbacks = CoreMetrics.Counter(label: "edge_llm_fallbacks_total", factory: metrics.factory)
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        .producing { emit in
            var produced = false
            do {
                for try await event in GuardedStream.relay(
                    through: primaryUpstream, classify: Upstreams.classify, { primary.stream(request) })
                {
                    produced = true
                    emit(event)
                }
                return
            } catch let error where produced || error is CancellationError || fallback == nil {
                throw error
            } catch {
                logger.warning("the primary model failed; using the fallback model", metadata: ["error": "\(error)"])
                fallbacks.increment()
            }
            guard let fallback else { return }
            for try await event in GuardedStream.relay(
                through: fallbackUpstream, classify: Upstreams.classify, { fallback.stream(request) })
            {
                emit(event)
            }
        }
    }
}
