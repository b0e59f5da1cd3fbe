public import Resilience

/// A cloud voice behind its ``Upstream``: the first frame of audio must arrive within the upstream's timeout,
/// failures open its circuit, and a refused or failed request is tried again once where that is safe
/// (nothing has been played yet).
public struct GuardedSynthesizer: SpeechSynthesizer {
    let base: any SpeechSynthesizer
    let upstream: Upstream

    public init(_ base: any SpeechSynthesizer, upstream: Upstream) {
        self.base = base
        self.upstream = upstream
    }

    public func synthesize(_ text: String, language: String) -> AsyncThrowingStream<[UInt8], any Error> {
        synthesize(text, language: language, style: .standard)
    }

    public func synthesize(_ text: String, language: String, style: VoiceStyle) -> AsyncThrowingStream<
        [UInt8], any Error
    > {
        // Held to a steady pace, so a provider that drips never yields a first frame in time and
        // counts as failing, like one that hangs.
        GuardedStream.relay(through: upstream, classify: Upstreams.classify) {
            SpeechOutput.steady(base.synthesize(text, language: language, style: style))
        }
    }
}
