import Testing

@testable import Resilience

@Suite("Resilience errors")
struct ResilienceErrorTests {
    @Test("messages name the provider, the wait and what to check")
    func messages() {
        let open = ResilienceError.circuitOpen(provider: "elevenlabs", retryIn: .milliseconds(11_200))
        #expect(open.code == .circuitOpen)
        #expect(open.description.hasPrefix("elevenlabs is failing: circuit open, next try in 12 s"))

        let timedOut = ResilienceError.timedOut(provider: "llm", after: .seconds(10))
        #expect(timedOut.description.hasPrefix("llm did not answer within 10 s"))

        let busy = ResilienceError.limitReached(provider: "deepgram", waited: .milliseconds(400), maxConcurrent: 8)
        #expect(busy.description.hasPrefix("deepgram is busy: all 8 request slots stayed in use for 400 ms"))

        let limited = ResilienceError.rateLimited(provider: "twilio", retryIn: .seconds(5))
        #expect(limited.description.hasPrefix("twilio is rate limiting us (429 Retry-After): next try in 5 s"))
        #expect(limited.code.description == "rate_limited")
    }
}
