import Foundation
import Hummingbird
import Resilience
import TestSupport
import Testing

@testable import EdgeAgent

/// The fallback chains and the circuits in front of each provider, against the loopback doubles.
@Suite("Fallback chains")
struct FallbackChainTests {
    static func upstreams(_ metrics: AgentMetrics, _ logs: LogCapture, threshold: Int = 5) -> Upstreams {
        var settings = AgentConfiguration.Resilience()
        settings.failureThreshold = threshold
        return Upstreams(configuration: settings, metrics: metrics, logger: logs.logger)
    }

    /// The transcription endpoint of the double at `url`, guarded, as a link of a recognizer chain.
    static func transcription(at url: URL, _ upstreams: Upstreams) -> (name: String, recognizer: any SpeechRecognizer) {
        (
            "transcription",
            GuardedRecognizer(
                OpenAITranscriptionClient(
                    http: .shared, baseURL: url.appendingPathComponent("v1"), apiKey: Secret(OpenAIChatDouble.apiKey),
                    model: "whisper"),
                upstream: upstreams.transcription)
        )
    }

    static func text(_ stream: AsyncThrowingStream<ChatEvent, any Error>) async throws -> String {
        var text = ""
        for try await event in stream { if case .text(let piece) = event { text += piece } }
        return text
    }

    @Test("the primary model failing (500, then its circuit open) hands the turn to the fallback endpoint")
    func fallbackModel() async throws {
        let logs = LogCapture()
        let metrics = AgentMetrics()
        let upstreams = Self.upstreams(metrics, logs, threshold: 2)
        let primary = OpenAIChatDouble([ScriptedLLM.text("never")], faults: FaultInjection(.status(500)))
        let fallback = OpenAIChatDouble([ScriptedLLM.text("Hello from the small model.")])
        let primaryRouter = primary.router
        let fallbackRouter = fallback.router
        try await withLoopbackServer(primaryRouter) { primaryURL in
            try await withLoopbackServer(fallbackRouter) { fallbackURL in
                let model = FallbackLanguageModel(
                    primary: OpenAIChatClient(
                        http: .shared, baseURL: primaryURL.appendingPathComponent("v1"),
                        apiKey: Secret(OpenAIChatDouble.apiKey), model: "big"),
                    primaryUpstream: upstreams.llm,
                    fallback: OpenAIChatClient(
                        http: .shared, baseURL: fallbackURL.appendingPathComponent("v1"),
                        apiKey: Secret(OpenAIChatDouble.apiKey), model: "small"),
                    fallbackUpstream: upstreams.llmFallback, metrics: metrics, logger: logs.logger)
                let request = ChatRequest(messages: [.user("Hi")])
                let first = try await Self.text(model.stream(request))
                #expect(first == "Hello from the small model.")
                // Two attempts (a retry after backoff) opened the circuit at threshold 2.
                #expect(primary.requests.withLockedValue { $0.count } == 2)
                #expect(upstreams.llm.state == .open)
                // Now the primary is not even tried.
                let second = try await Self.text(model.stream(request))
                #expect(second == "Hello from the small model.")
                #expect(primary.requests.withLockedValue { $0.count } == 2)
                #expect(fallback.requests.withLockedValue { $0.count } == 2)
                #expect(fallback.requests.withLockedValue { $0 }.allSatisfy { $0["model"] == "small" })
            }
        }
        let exposition = metrics.exposition()
        #expect(exposition.contains("edge_llm_fallbacks_total 2"))
        #expect(exposition.contains(#"edge_upstream_circuit_state{provider="llm"} 2"#))
        #expect(logs.all.contains { $0.contains("using the fallback model") })
        #expect(!logs.all.joined().contains(OpenAIChatDouble.apiKey))
    }

    @Test("a model that never starts answering is abandoned at its timeout, and the error reaches the call")
    func hangingModel() async throws {
        let logs = LogCapture()
        let metrics = AgentMetrics()
        let faults = FaultInjection(.hang)
        let double = OpenAIChatDouble([ScriptedLLM.text("never")], faults: faults)
        let upstream = Upstream(
            name: "llm", policy: UpstreamPolicy(requestTimeout: .milliseconds(300), retry: RetryPolicy(maxAttempts: 1)),
            logger: logs.logger, metricsFactory: metrics.factory)
        let router = double.router
        try await withLoopbackServer(router) { url in
            defer { faults.hold.open() }
            let model = FallbackLanguageModel(
                primary: OpenAIChatClient(
                    http: .shared, baseURL: url.appendingPathComponent("v1"), apiKey: Secret(OpenAIChatDouble.apiKey),
                    model: "m"),
                primaryUpstream: upstream, fallback: nil, fallbackUpstream: upstream, metrics: metrics,
                logger: logs.logger)
            await #expect {
                _ = try await Self.text(model.stream(ChatRequest(messages: [.user("Hi")])))
            } throws: { ($0 as? ResilienceError)?.code == .timedOut }
        }
        #expect(metrics.exposition().contains(#"edge_upstream_requests_total{provider="llm",outcome="timeout"} 1"#))
    }

    @Test("Deepgram refusing the socket: the transcription endpoint hears the whole utterance")
    func speechToTextChain() async throws {
        let logs = LogCapture()
        let metrics = AgentMetrics()
        let upstreams = Self.upstreams(metrics, logs)
        let transcription = TranscriptionDouble(["A table for two, please."])
        let router = Router()
        transcription.register(on: router)
        try await withLoopbackServer(router) { url in
            let recognizer = FallbackRecognizer(
                chain: [
                    (
                        "deepgram",
                        GuardedRecognizer(
                            DeepgramRecognizer(
                                baseURL: URL(string: "ws://127.0.0.1:1")!, apiKey: Secret("dg"), logger: logs.logger),
                            upstream: upstreams.deepgram)
                    ),
                    Self.transcription(at: url, upstreams),
                ], metrics: metrics, logger: logs.logger)
            let recognition = try await recognizer.startUtterance(languageHint: "en")
            let speech = try EdgeAgentTestAudio.speech("en-name")
            await recognition.send(speech)
            let transcript = try await recognition.finish()
            #expect(transcript.text == "A table for two, please.")
            #expect(transcription.durations.withLockedValue { $0 } == [Double(speech.count) / 8000])
        }
        #expect(metrics.exposition().contains("edge_stt_fallbacks_total 1"))
        #expect(logs.all.contains { $0.contains("trying the next recognizer") && $0.contains("deepgram") })
    }

    @Test("a transcription that fails at the end of the utterance is retried, then the error reaches the call")
    func transcriptionFailsAtFinish() async throws {
        let logs = LogCapture()
        let metrics = AgentMetrics()
        let upstreams = Self.upstreams(metrics, logs)
        let faults = FaultInjection(.status(503))
        let transcription = TranscriptionDouble(["unused"], faults: faults)
        let router = Router()
        transcription.register(on: router)
        try await withLoopbackServer(router) { url in
            let recognizer = FallbackRecognizer(
                chain: [Self.transcription(at: url, upstreams)], metrics: metrics, logger: logs.logger)
            let recognition = try await recognizer.startUtterance(languageHint: "en")
            await recognition.send([UInt8](repeating: 0x7F, count: 8000))
            await #expect { _ = try await recognition.finish() } throws: {
                ($0 as? SpeechRecognitionError)?.status == 503
            }
        }
        #expect(transcription.durations.withLockedValue { $0.count } == 2)
    }

    @Test("/readyz names each configured provider's circuit and stays 200 while they are down")
    func readiness() async throws {
        let folder = TemporaryFolder()
        var configuration = testConfiguration(folder: folder)
        configuration.textToSpeech.apiKey = Secret("k")
        configuration.resilience.failureThreshold = 1
        let logs = LogCapture()
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
        let probe = ReadinessProbe(
            database: app.database, configuration: configuration, upstreams: app.configuredUpstreams)
        var report = await probe.check()
        #expect(report.checks["elevenlabs"]?.status == .up)
        #expect(report.checks["llm"]?.status == .up)
        #expect(report.checks["deepgram"] == nil)
        #expect(report.status == .up)
        await #expect(throws: (any Error).self) {
            let fail: @Sendable () async throws -> Void = {
                throw SpeechSynthesisError(status: 503, providerCode: nil, message: "down")
            }
            try await app.upstreams.elevenLabs.run(classify: { _ in .retryable }, fail)
        }
        report = await probe.check()
        #expect(report.checks["elevenlabs"]?.status == .down)
        #expect(report.checks["elevenlabs"]?.detail?.contains("circuit open") == true)
        #expect(report.status == .degraded)
        await app.shutdown()
    }
}
