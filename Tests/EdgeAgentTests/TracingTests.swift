import AsyncHandoff
import Foundation
import HTTPTypes
import Hummingbird
import InMemoryTracing
import Logging
import NIOCore
import ServiceLifecycle
import Sync
import TestSupport
import Testing
import Tracing

@testable import EdgeAgent

/// A finished span's instants in nanoseconds since 1970, for comparisons.
extension FinishedInMemorySpan {
    var start: UInt64 { startInstant.nanosecondsSinceEpoch }
    var end: UInt64 { endInstant.nanosecondsSinceEpoch }

    /// Every attribute value as text, to look for what must never be in a span.
    var attributeTexts: [String] {
        var texts: [String] = []
        attributes.forEach { _, value in texts.append("\(value)") }
        return texts
    }
}

@Suite("Turn spans")
struct TurnTracerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A turn whose stages each took a known time (binary fractions of a second, exact in a `Date`),
    /// with one tool.
    static func trace(interrupted: Bool = false) -> TurnTrace {
        TurnTrace(
            callID: "call-1", callSid: "CA0000000000000000000000000000trace", turnID: "turn-1", language: "es",
            index: 3, interrupted: interrupted, endOfSpeechAt: start,
            transcriptFinalAt: start.addingTimeInterval(0.25), firstTokenAt: start.addingTimeInterval(0.75),
            firstAudioAt: start.addingTimeInterval(1.5), firstFrameAt: start.addingTimeInterval(1.625),
            endedAt: start.addingTimeInterval(4),
            tools: [
                .init(
                    name: "check_availability", succeeded: false, startedAt: start.addingTimeInterval(0.875),
                    endedAt: start.addingTimeInterval(1.0))
            ])
    }

    @Test("call.turn holds its stages back to back, its tool with name and outcome, and nothing else")
    func stages() throws {
        let tracer = InMemoryTracer()
        TurnTracer(tracer: tracer).record(Self.trace())
        let spans = tracer.finishedSpans
        #expect(spans.count == 6)
        #expect(tracer.activeSpans.isEmpty)
        let turns = spans.filter { $0.operationName == "call.turn" }
        let turn = try #require(turns.first)
        #expect(turns.count == 1)
        #expect(turn.parentSpanID == nil)
        #expect(turn.attributes.get("call.id") == .string("call-1"))
        #expect(turn.attributes.get("call.sid") == .string("CA0000000000000000000000000000trace"))
        #expect(turn.attributes.get("call.language") == .string("es"))
        #expect(turn.attributes.get("turn.id") == .string("turn-1"))
        #expect(turn.attributes.get("turn.index") == .int64(3))
        #expect(turn.attributes.get("turn.interrupted") == .bool(false))
        #expect(turn.attributes.count == 6)
        #expect(turn.attributeTexts.contains { $0.contains("CA0000000000000000000000000000trace") })
        #expect(turn.start == 1_800_000_000 * 1_000_000_000)
        #expect(turn.end - turn.start == 4_000_000_000)

        let children = Dictionary(
            uniqueKeysWithValues: spans.filter { $0.parentSpanID == turn.spanID }.map { ($0.operationName, $0) })
        #expect(children.keys.sorted() == ["first_frame", "llm", "stt", "tool", "tts"])
        #expect(spans.allSatisfy { $0.traceID == turn.traceID && $0.start <= $0.end })
        let stt = try #require(children["stt"])
        let llm = try #require(children["llm"])
        let tts = try #require(children["tts"])
        let firstFrame = try #require(children["first_frame"])
        #expect(stt.start == turn.start && stt.end - stt.start == 250_000_000)
        #expect(llm.start == stt.end && llm.end - llm.start == 500_000_000)
        #expect(tts.start == llm.end && tts.end - tts.start == 750_000_000)
        #expect(firstFrame.start == tts.end && firstFrame.end - firstFrame.start == 125_000_000)
        for stage in [stt, llm, tts, firstFrame] { #expect(stage.attributes.isEmpty) }
        let tool = try #require(children["tool"])
        #expect(tool.attributes.get("tool.name") == .string("check_availability"))
        #expect(tool.attributes.get("tool.outcome") == .string("error"))
        #expect(tool.attributes.count == 2)
        #expect(tool.start - turn.start == 875_000_000 && tool.end - tool.start == 125_000_000)
    }

    @Test("a stage with an unknown end has no span; a tool ending after its turn still joins it")
    func partialTurn() throws {
        let tracer = InMemoryTracer()
        var trace = Self.trace(interrupted: true)
        // Keys pressed: no transcript, no model; the answer was cut off before its first frame.
        trace.transcriptFinalAt = nil
        trace.firstTokenAt = nil
        trace.firstFrameAt = nil
        trace.tools = []
        let context = TurnTracer(tracer: tracer).record(trace)
        TurnTracer(tracer: tracer).record(
            .init(
                name: "create_reservation", succeeded: true, startedAt: Self.start.addingTimeInterval(3),
                endedAt: Self.start.addingTimeInterval(5)), under: context)
        let spans = tracer.finishedSpans
        let turn = try #require(spans.first { $0.operationName == "call.turn" })
        #expect(spans.map(\.operationName).sorted() == ["call.turn", "tool"])
        #expect(turn.attributes.get("turn.interrupted") == .bool(true))
        let tool = try #require(spans.first { $0.operationName == "tool" })
        #expect(tool.parentSpanID == turn.spanID && tool.traceID == turn.traceID)
        #expect(tool.attributes.get("tool.outcome") == .string("ok"))
        #expect(tool.end > turn.end)
    }

    @Test("a tool run's instants come from its execution row")
    func toolRunFromExecution() {
        let run = TurnTrace.ToolRun(
            ToolExecution(
                id: "x", callID: "call-1", turnID: "turn-1", tool: "take_message",
                arguments: #"{"name":"Ada Lovelace","phone":"+15551234567"}"#, result: "{}", status: .ok,
                startedAt: 1_800_000_000_123, durationMilliseconds: 456))
        #expect(run.name == "take_message" && run.succeeded)
        #expect(run.startedAt == Date(unixMilliseconds: 1_800_000_000_123))
        #expect(run.endedAt == Date(unixMilliseconds: 1_800_000_000_579))
    }
}

@Suite("Tracing configuration")
struct TracingConfigurationTests {
    @Test("no endpoint by default: nothing is exported")
    func defaults() throws {
        let loaded = try ConfigurationLoader().load(filePath: nil, environment: [:])
        #expect(loaded.configuration.tracing.otlpEndpoint == nil)
        #expect(loaded.configuration.tracing.serviceName == "edge-agent")
        let backend = try TracingBackend.make(settings: loaded.configuration.tracing, logger: LogCapture().logger)
        #expect(backend.service == nil)
        #expect(backend.tracer is NoOpTracer)
        #expect(loaded.effectiveDescription.contains("tracing.otlp_endpoint"))
    }

    @Test("EDGE_OTLP_ENDPOINT and EDGE_TRACING_SERVICE_NAME are read and shown by --check-config")
    func endpoint() throws {
        let loaded = try ConfigurationLoader().load(
            filePath: nil,
            environment: ["EDGE_OTLP_ENDPOINT": "http://collector.local:4318", "EDGE_TRACING_SERVICE_NAME": "box-7"])
        #expect(loaded.configuration.tracing.otlpEndpoint?.absoluteString == "http://collector.local:4318")
        #expect(loaded.configuration.tracing.serviceName == "box-7")
        let line = loaded.effectiveDescription.split(separator: "\n").first { $0.hasPrefix("tracing.otlp_endpoint ") }
        #expect(line?.contains("= http://collector.local:4318  [environment EDGE_OTLP_ENDPOINT") == true)
    }

    @Test(
        "a bad endpoint is refused in one line that names the setting",
        arguments: [
            ("collector:4318", "is not a URL starting with http:// or https://"),
            ("grpc://collector:4317", "is not a URL starting with http:// or https://"),
            ("https://user:secret@collector", "must not contain a user name or password"),
        ])
    func badEndpoint(value: String, reason: String) {
        do {
            _ = try ConfigurationLoader().load(filePath: nil, environment: ["EDGE_OTLP_ENDPOINT": value])
            Issue.record("\(value) was accepted")
        } catch {
            #expect(
                error.description.hasPrefix(
                    "configuration error: tracing.otlp_endpoint (environment EDGE_OTLP_ENDPOINT): \(reason)"))
            #expect(!error.description.contains("\n"))
            #expect(!error.description.contains("secret"))
        }
    }

    @Test(
        "spans are posted to the collector's /v1/traces",
        arguments: [
            ("http://collector:4318", "http://collector:4318/v1/traces"),
            ("http://collector:4318/", "http://collector:4318/v1/traces"),
            ("https://otel.example.com/tenant-7", "https://otel.example.com/tenant-7/v1/traces"),
            ("http://collector:4318/v1/traces", "http://collector:4318/v1/traces"),
        ])
    func tracesURL(endpoint: String, expected: String) throws {
        #expect(TracingBackend.tracesURL(try #require(URL(string: endpoint))).absoluteString == expected)
    }
}

@Suite("OTLP export")
struct OTLPExportTests {
    /// One request the collector stand-in received.
    struct Received: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let contentType: String?
        let body: [UInt8]
    }

    /// Runs `body` with an OTLP/HTTP collector stand-in on loopback that answers every POST as a
    /// collector does; returns every request it received, once `body` is done.
    func withCollector(_ body: (URL) async throws -> Void) async throws -> [Received] {
        let (requests, received) = AsyncStream.makeStream(of: Received.self)
        let router = Router()
        router.on("**", method: .post) { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            received.yield(
                Received(
                    method: request.method, path: request.uri.path, contentType: request.headers[.contentType],
                    body: Array(buffer: body)))
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        try await withLoopbackServer(router, body)
        received.finish()
        var all: [Received] = []
        for await request in requests { all.append(request) }
        return all
    }

    /// The one request of `requests` is an OTLP/HTTP protobuf export of `TurnTracerTests.trace()`.
    func expectOneExport(_ requests: [Received], serviceName: String) throws {
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.method == .post)
        #expect(request.path == "/v1/traces")
        #expect(request.contentType == "application/x-protobuf")
        #expect(!request.body.isEmpty)
        // Protobuf keeps strings as they are: the span names, ids and service name are in the body.
        let body = String(decoding: request.body, as: UTF8.self)
        for text in [
            "call.turn", "first_frame", "check_availability", "CA0000000000000000000000000000trace", serviceName,
        ] {
            #expect(body.contains(text), "\(text) not exported")
        }
    }

    @Test("a finished turn reaches the collector as one OTLP/HTTP protobuf POST to /v1/traces on graceful stop")
    func export() async throws {
        let requests = try await withCollector { collector in
            let settings = AgentConfiguration.TracingSettings(otlpEndpoint: collector, serviceName: "edge-agent-test")
            let backend = try TracingBackend.make(settings: settings, logger: LogCapture().logger)
            let exporter = try #require(backend.service)
            let group = ServiceGroup(services: [exporter], logger: LogCapture().logger)
            try await withThrowingTaskGroup { tasks in
                tasks.addTask { try await group.run() }
                TurnTracer(tracer: backend.tracer).record(TurnTracerTests.trace())
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
        try expectOneExport(requests, serviceName: "edge-agent-test")
    }

    @Test("serve's service group runs the exporter and sends the calls' spans when it stops")
    func serviceGroup() async throws {
        let requests = try await withCollector { collector in
            let folder = TemporaryFolder()
            let logs = LogCapture()
            var configuration = testConfiguration(folder: folder)
            configuration.tracing.otlpEndpoint = collector
            let tracing = try TracingBackend.make(settings: configuration.tracing, logger: logs.logger)
            let app = try await EdgeAgentApp.prepare(
                configuration: configuration, logger: logs.logger, tracing: tracing)
            let running = Handoff<Int>()
            let server = app.makeApplication(router: app.makeRouter()) { channel in
                running.send(channel.localAddress?.port ?? 0)
            }
            let group = AgentServer(app: app).makeServiceGroup(
                server: server, notifier: SystemdNotifier(socketPath: nil, watchdogInterval: nil, logger: logs.logger),
                gracefulShutdownSignals: [])
            try await withThrowingTaskGroup { tasks in
                tasks.addTask { try await group.run() }
                #expect(await running.receive() > 0)
                // What a call's session writes, through the tracer the calls are given.
                TurnTracer(tracer: app.makeCallServices().tracer).record(TurnTracerTests.trace())
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(logs.all.contains { $0.contains("call turn spans exported over OTLP/HTTP") })
        }
        try expectOneExport(requests, serviceName: "edge-agent")
    }
}
