public import Logging

/// Speaks through `primary`, and through `fallback` when the primary fails before it has produced any
/// audio, so a caller always hears the answer (in a plainer voice) rather than silence.
public struct FallbackSynthesizer: SpeechSynthesizer {
    let primary: any SpeechSynthesizer
    let fallback: any SpeechSynthesizer
    let metrics: AgentMetrics
    let logger: Logger

    public init(primary: any SpeechSynthesizer, fallback: any SpeechSynthesizer, metrics: AgentMetrics, logger: Logger)
    {
        self.primary = primary
        self.fallback = fallback
        self.metrics = metrics
        self.logger = logger
    }

    public func synthesize(_ text: String, language: String) -> AsyncThrowingStream<[UInt8], any Error> {
        .producing { [primary, fallback, metrics, logger] emit in
            var produced = false
            do {
                for try await chunk in primary.synthesize(text, language: language) {
                    produced = true
                    emit(chunk)
                }
                return
            } catch let error where produced || error is CancellationError {
                throw error
            } catch {
                logger.warning("speech synthesis failed; using the local voice", metadata: ["error": "\(error)"])
                metrics.localVoiceFallbacks.increment()
            }
            for try await chunk in fallback.synthesize(text, language: language) { emit(chunk) }
        }
    }
}
