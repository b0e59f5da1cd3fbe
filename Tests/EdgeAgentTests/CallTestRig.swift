import AsyncHTTPClient
import Foundation
import GRDB
import Hummingbird
import LocalStore
import Logging
import ServiceLifecycle
import StoreTestSupport
import Sync
import TestSupport
import Tracing

@testable import CallSimulator
@testable import EdgeAgent

/// A whole agent on a loopback port, with loopback doubles for the LLM, speech-to-text and ElevenLabs,
/// and a Twilio-side simulator to call it.
struct CallTestRig {
    static let authToken = testAuthToken
    static let caller = TestNumbers.caller
    /// The restaurant's number, which every test call dials.
    static let restaurant = TestNumbers.restaurant

    /// A CallSid of Twilio's shape no other call of the test run has.
    static func newCallSid() -> String { TestNumbers.newCallSid() }

    let llm: OpenAIChatDouble
    let transcription: TranscriptionDouble
    let tts: ElevenLabsDouble
    /// When set, speech goes to the Deepgram double instead of the transcription endpoint.
    var deepgram: DeepgramDouble? = nil
    /// The agent's log lines, for a failing test to show.
    let logs = LogCapture()
    /// Last changes to the agent's configuration (for example every provider pointed at a dead port).
    var adjust: @Sendable (inout AgentConfiguration) -> Void = { _ in }
    /// Where the calls' spans go (an in-memory tracer, to assert them); none by default.
    var tracer: (any Tracer)? = nil

    /// Tomorrow in the restaurant's zone, as the model would name it.
    static var tomorrow: String {
        LocalDate(Date(), in: TimeZone(identifier: "America/New_York")!).adding(days: 1).description
    }

    /// Runs `body` with the agent up and a simulator pointed at it.
    func run(_ body: @Sendable (EdgeAgentApp, CallSimulator) async throws -> Void) async throws {
        if let deepgram {
            try await deepgram.serve { url in try await run(deepgramURL: url, body) }
        } else {
            try await run(deepgramURL: nil, body)
        }
    }

    private func run(deepgramURL: URL?, _ body: @Sendable (EdgeAgentApp, CallSimulator) async throws -> Void)
        async throws
    {
        let doubles = Router()
        llm.register(on: doubles)
        transcription.register(on: doubles)
        tts.register(on: doubles)
        try await withLoopbackServer(doubles) { cloud in
            let folder = TemporaryFolder()
            var configuration = testConfiguration(folder: folder)
            configuration.http.port = 0
            configuration.llm.baseURL = cloud.appendingPathComponent("v1")
            configuration.llm.apiKey = Secret(OpenAIChatDouble.apiKey)
            configuration.textToSpeech.baseURL = cloud
            configuration.textToSpeech.apiKey = Secret(ElevenLabsDouble.apiKey)
            configuration.textToSpeech.voiceEnglish = "voice-en"
            configuration.textToSpeech.voiceSpanish = "voice-es"
            configuration.restaurant.name = "Trattoria Roma"
            configuration.mediaStreamStallSeconds = 1.5
            if let deepgramURL {
                configuration.speechToText.deepgramBaseURL = deepgramURL
                configuration.speechToText.deepgramAPIKey = Secret(DeepgramDouble.apiKey)
            }
            let allDay = ReservationPolicy.Period("12:00-23:00")!
            configuration.reservations.openingHours = Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [allDay]) })
            adjust(&configuration)
            // The client `serve` uses, so many calls at once stream from the doubles as they would in
            // production (the shared client's pool queues the ninth connection to a host).
            let http = UpstreamHTTP.makeClient()
            let app: EdgeAgentApp
            do {
                app = try await EdgeAgentApp.prepare(
                    configuration: configuration, logger: logs.logger, http: http,
                    tracing: tracer.map { TracingBackend(tracer: $0) } ?? .disabled)
            } catch {
                try await http.shutdown()
                throw error
            }
            let publicURL = configuration.publicURL
            do {
                try await DemoRunner.serveAgent(app, router: app.makeRouter()) { agentURL in
                    let simulator = CallSimulator(
                        agentURL: agentURL, publicURL: publicURL, authToken: Self.authToken, logger: logs.logger)
                    try await body(app, simulator)
                }
            } catch {
                await app.shutdown()
                throw error
            }
            await app.shutdown()  // shuts `http` down too
        }
    }
}

extension CallSimulator {
    /// Calls the restaurant from `from` with `script`.
    func call(
        callSid: String = CallTestRig.newCallSid(), from: String = CallTestRig.caller, script: CallScript
    ) async throws -> CallReport {
        try await call(callSid: callSid, from: from, to: CallTestRig.restaurant, script: script)
    }

    /// Calls the restaurant, and returns once `app` has ended the call's session and stored everything.
    @discardableResult
    func callToEnd(
        _ app: EdgeAgentApp, callSid: String = CallTestRig.newCallSid(), from: String = CallTestRig.caller,
        script: CallScript
    ) async throws -> CallReport {
        let report = try await call(callSid: callSid, from: from, script: script)
        await app.waitForEnd(of: report.callID)
        return report
    }
}

extension CallScript {
    /// A caller who waits up to `greetingWithin` for the greeting, then says each recorded line
    /// (`Tests/Fixtures/speech`) and waits up to 8 s for the agent to answer it; `ending` follows
    /// (a hang-up by default).
    static func caller(
        saying lines: [String], greetingWithin: Duration = .seconds(5), then ending: [Step] = [.hangUp]
    ) throws -> CallScript {
        var steps: [Step] = [.waitForAgent(timeout: greetingWithin)]
        for line in lines {
            steps += [.say(try EdgeAgentTestAudio.speech(line)), .waitForAgent(timeout: .seconds(8))]
        }
        return CallScript(steps + ending)
    }
}

extension EdgeAgentApp {
    /// Waits until the session of `callID` has ended and stored everything.
    func waitForEnd(of callID: String?) async {
        await waitForEnd(of: [callID])
    }

    /// Waits until the sessions of all `callIDs` have ended. One stream of events feeds every waiter,
    /// so calls that end together are awaited in one pass: a wait for one call consumes the others' ends.
    func waitForEnd(of callIDs: [String?]) async {
        var waiting = Set(callIDs.map { $0 ?? "" })
        for await event in callEvents {
            guard case .ended(let callID) = event else { continue }
            waiting.remove(callID)
            if waiting.isEmpty { return }
        }
    }
}

/// SSE bodies the LLM double answers with.
enum ScriptedLLM {
    /// The model asks whether four can sit tomorrow at 19:30: the booking most call tests make.
    static var checkAdasTable: OpenAIChatDouble.Answer {
        tool("check_availability", #"{"date":"\#(CallTestRig.tomorrow)","time":"19:30","party_size":4}"#)
    }

    /// The model books that table for Ada Lovelace.
    static var bookAdasTable: OpenAIChatDouble.Answer {
        tool(
            "create_reservation",
            #"{"name":"Ada Lovelace","party_size":4,"date":"\#(CallTestRig.tomorrow)","time":"19:30"}"#)
    }

    static func text(_ text: String) -> OpenAIChatDouble.Answer {
        let words = text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { index, word in
            index == 0 ? String(word) : " " + word
        }
        let chunks = words.map { word in
            #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":\#(json(word))},"finish_reason":null}]}"#
        }
        let end = #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#
        return .init(pieces: [OpenAIChatDouble.events(chunks + [end])])
    }

    static func tool(
        _ name: String, _ arguments: String, id: String = "call_\(UUID().uuidString.prefix(8))", text: String? = nil
    )
        -> OpenAIChatDouble.Answer
    {
        var chunks: [String] = []
        if let text {
            chunks.append(
                #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":\#(json(text))},"finish_reason":null}]}"#
            )
        }
        let half = arguments.index(arguments.startIndex, offsetBy: arguments.count / 2)
        chunks.append(
            #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"\#(id)","type":"function","function":{"name":"\#(name)","arguments":\#(json(String(arguments[..<half])))}}]},"finish_reason":null}]}"#
        )
        chunks.append(
            #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":\#(json(String(arguments[half...])))}}]},"finish_reason":null}]}"#
        )
        chunks.append(
            #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#)
        return .init(pieces: [OpenAIChatDouble.events(chunks)])
    }

    static func json(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
}
