import CloudAccountDoubles
import Foundation
import Hummingbird
import TestSupport
import Testing

@testable import EdgeAgent

/// `edge-agent doctor`'s checks that leave the box, against loopback stand-ins for each provider:
/// a right key passes, a wrong key fails naming the key's setting, a dead provider fails naming the
/// base URL, and the Twilio number is checked for where it sends calls.
@Suite("edge-agent doctor over the network")
struct DoctorNetworkTests {
    static let account = "AC00000000000000000000000000000042"
    static let number = "+15550100042"

    /// One loopback server per provider (their paths overlap), and the configuration pointing at them.
    struct Cloud {
        let openAI: URL
        let elevenLabs: URL
        let deepgram: URL
        let twilio: URL
        let numbers: TwilioPhoneNumbersDouble
    }

    static func withCloud(_ body: (Cloud) async throws -> Void) async throws {
        let numbers = TwilioPhoneNumbersDouble(
            accountSID: account, authToken: testAuthToken, numbers: [number: nil, "+15550100043": nil])
        func server(_ register: (Router<BasicRequestContext>) -> Void) -> Router<BasicRequestContext> {
            let router = Router()
            register(router)
            return router
        }
        let openAI = server {
            ProviderAccountsDouble(.openAI(key: "sk-right", models: ["gpt-4o-mini"])).register(on: $0)
        }
        let voice = server {
            ProviderAccountsDouble(.elevenLabs(key: "xi-right", models: ["eleven_flash_v2_5"])).register(on: $0)
        }
        let deepgram = server { ProviderAccountsDouble(.deepgram(key: "dg-right")).register(on: $0) }
        let twilio = server { numbers.register(on: $0) }
        try await withLoopbackServer(openAI) { openAIURL in
            try await withLoopbackServer(voice) { voiceURL in
                try await withLoopbackServer(deepgram) { deepgramURL in
                    try await withLoopbackServer(twilio) { twilioURL in
                        try await body(
                            Cloud(
                                openAI: openAIURL, elevenLabs: voiceURL, deepgram: deepgramURL, twilio: twilioURL,
                                numbers: numbers))
                    }
                }
            }
        }
    }

    static func configuration(_ folder: TemporaryFolder, _ cloud: Cloud) -> AgentConfiguration {
        var configuration = testConfiguration(folder: folder)
        configuration.llm.baseURL = cloud.openAI.appendingPathComponent("v1")
        configuration.llm.apiKey = Secret("sk-right")
        configuration.textToSpeech.baseURL = cloud.elevenLabs
        configuration.textToSpeech.apiKey = Secret("xi-right")
        var deepgram = URLComponents(url: cloud.deepgram, resolvingAgainstBaseURL: false)!
        deepgram.scheme = "ws"
        configuration.speechToText.deepgramBaseURL = deepgram.url!
        configuration.speechToText.deepgramAPIKey = Secret("dg-right")
        configuration.twilio.accountSID = account
        configuration.twilio.apiBaseURL = cloud.twilio
        return configuration
    }

    static func networkChecks(_ configuration: AgentConfiguration) async throws -> [String: DoctorCheck] {
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
        let checks = await Doctor(app: app, clockSynchronized: { true }, networkTimeout: .seconds(5)).network()
        await app.shutdown()
        return Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0) })
    }

    @Test("every provider's key accepted and the number pointing here: each line passes")
    func healthy() async throws {
        try await Self.withCloud { cloud in
            let folder = TemporaryFolder()
            let configuration = Self.configuration(folder, cloud)
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            let sid = try #require(cloud.numbers.number(Self.number)?["sid"])
            cloud.numbers.set("voice_url", to: "https://agent.example.com/twilio/voice", of: Self.number)
            cloud.numbers.set("voice_fallback_url", to: "https://hq.example.com/v1/twilio/fallback/s1", of: Self.number)
            try ProvisionedNumber(
                phoneNumber: Self.number, sid: sid, voiceURL: "https://agent.example.com/twilio/voice",
                fallbackURL: "https://hq.example.com/v1/twilio/fallback/s1"
            ).save(dataDirectory: configuration.dataDirectory)

            let checks = try await Self.networkChecks(configuration)
            #expect(
                checks["language model"] == DoctorCheck("language model", .pass, "key accepted, gpt-4o-mini offered"))
            #expect(
                checks["cloud voice"]
                    == DoctorCheck("cloud voice", .pass, "ElevenLabs key accepted, eleven_flash_v2_5 offered"))
            #expect(checks["speech recognition"] == DoctorCheck("speech recognition", .pass, "Deepgram key accepted"))
            #expect(
                checks["twilio number"]
                    == DoctorCheck(
                        "twilio number", .pass,
                        "+15550100042 calls this box, falls back to https://hq.example.com/v1/twilio/fallback/s1"))
            #expect(checks["headquarters"]?.status == .warn)
            #expect(checks["headquarters"]?.fix?.hasPrefix("edge-agent provision --hq URL --token TOKEN") == true)
            // Asking changed nothing at Twilio.
            #expect(cloud.numbers.updates.withLockedValue { $0.count } == 0)
        }
    }

    @Test("wrong keys fail naming the key's setting, and the secret never appears in a line")
    func wrongKeys() async throws {
        try await Self.withCloud { cloud in
            let folder = TemporaryFolder()
            var configuration = Self.configuration(folder, cloud)
            configuration.llm.apiKey = Secret("sk-wrong-secret")
            configuration.textToSpeech.apiKey = Secret("xi-wrong-secret")
            configuration.speechToText.deepgramAPIKey = Secret("dg-wrong-secret")
            configuration.twilio.authToken = Secret("wrong-twilio-token")
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            try ProvisionedNumber(
                phoneNumber: Self.number, sid: "PN1", voiceURL: "https://agent.example.com/twilio/voice",
                fallbackURL: nil
            ).save(dataDirectory: configuration.dataDirectory)
            let checks = try await Self.networkChecks(configuration)
            #expect(checks["language model"]?.status == .fail)
            #expect(checks["language model"]?.detail == "127.0.0.1 refused the key (HTTP 401)")
            #expect(checks["language model"]?.fix == "check OPENAI_API_KEY")
            #expect(checks["cloud voice"]?.fix == "check ELEVENLABS_API_KEY")
            #expect(checks["speech recognition"]?.fix == "check DEEPGRAM_API_KEY")
            #expect(checks["twilio number"]?.detail == "Twilio refused the account's credentials (HTTP 401)")
            #expect(checks["twilio number"]?.fix == "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
            let text = checks.values.map { "\($0.detail) \($0.fix ?? "")" }.joined()
            #expect(!text.contains("wrong-secret") && !text.contains("wrong-twilio-token"))
        }
    }

    @Test("a provider that does not answer fails naming its base URL; a missing model only warns")
    func deadProviders() async throws {
        let folder = TemporaryFolder()
        try await Self.withCloud { cloud in
            var configuration = Self.configuration(folder, cloud)
            // A port nobody listens on: the server above it was stopped.
            let dead = try await withLoopbackServer(Router()) { $0 }
            configuration.textToSpeech.baseURL = dead
            configuration.llm.model = "gpt-9-imaginary"
            let checks = try await Self.networkChecks(configuration)
            #expect(checks["cloud voice"]?.status == .fail)
            #expect(checks["cloud voice"]?.detail.hasPrefix("127.0.0.1 cannot be reached: ") == true)
            #expect(checks["cloud voice"]?.fix == "check the internet line and ELEVENLABS_BASE_URL")
            #expect(checks["language model"]?.status == .warn)
            #expect(
                checks["language model"]?.detail
                    == "key accepted, but the model gpt-9-imaginary is not among the 1 offered")
            #expect(checks["speech recognition"]?.status == .pass)
        }
    }

    @Test("the Twilio number: another account's, pointing elsewhere, or without a fallback, each fails with its fix")
    func twilioNumber() async throws {
        try await Self.withCloud { cloud in
            let folder = TemporaryFolder()
            let configuration = Self.configuration(folder, cloud)
            let data = configuration.dataDirectory
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let fix = "edge-agent provision --twilio-number NUMBER"

            try ProvisionedNumber(phoneNumber: "+15550199999", sid: "PN9", voiceURL: "x", fallbackURL: nil)
                .save(dataDirectory: data)
            let foreign = try await Self.networkChecks(configuration)["twilio number"]
            #expect(foreign?.status == .fail)
            #expect(foreign?.detail == "+15550199999 is not a number of Twilio account \(Self.account)")

            let sid = try #require(cloud.numbers.number(Self.number)?["sid"])
            try ProvisionedNumber(phoneNumber: Self.number, sid: sid, voiceURL: "x", fallbackURL: nil)
                .save(dataDirectory: data)
            cloud.numbers.set("voice_url", to: "https://old-box.example.com/twilio/voice", of: Self.number)
            let elsewhere = try await Self.networkChecks(configuration)["twilio number"]
            #expect(
                elsewhere?.detail
                    == "+15550100042 sends calls to https://old-box.example.com/twilio/voice, not to this box (https://agent.example.com/twilio/voice)"
            )
            #expect(elsewhere?.fix == fix)

            cloud.numbers.set("voice_url", to: "https://agent.example.com/twilio/voice", of: Self.number)
            let noFallback = try await Self.networkChecks(configuration)["twilio number"]
            #expect(noFallback?.status == .fail)
            #expect(noFallback?.detail.contains("has no fallback URL") == true)
            #expect(noFallback?.fix == fix)
        }
    }
}
