import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import LocalStore
import NIOCore
import TestSupport
import Testing

@testable import EdgeAgent

/// Staff choose the agent's voice per language through the admin API: the catalog is warmed in the
/// chosen voice (against the ElevenLabs double) while calls keep the old one, then everything
/// speaks with the new one; the choice is audited and survives a restart.
@Suite("Voices chosen by staff", .serialized)
struct VoiceChoiceTests {
    static func configure(_ configuration: inout AgentConfiguration, cloud: URL) {
        configuration.textToSpeech.baseURL = cloud
        configuration.textToSpeech.apiKey = Secret(ElevenLabsDouble.apiKey)
        configuration.textToSpeech.voiceEnglish = "voice-en"
        configuration.textToSpeech.voiceSpanish = "voice-es"
        configuration.textToSpeech.voiceChoices["en"] = [
            VoiceChoice(id: "rachel", name: "Rachel"), VoiceChoice(id: "domi", name: "Domi"),
        ]
    }

    @Test("choose a voice: warmed beside the old one, then used by every sentence; audited; unknown ones refused")
    func choose() async throws {
        let tts = ElevenLabsDouble()
        let router = Router()
        tts.register(on: router)
        try await withLoopbackServer(router) { cloud in
            try await AdminAPITests.withAgent(configure: { Self.configure(&$0, cloud: cloud) }) { app, api, tokens in
                let listed = try AdminAPITests.object(
                    try await api.call(.get, "/api/v1/voices", token: tokens.staff).body)
                let languages = try #require(listed["languages"] as? [[String: Any]])
                let english = try #require(languages.first { $0["language"] as? String == "en" })
                #expect(english["active"] as? String == "voice-en")
                #expect(
                    (english["voices"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [
                        "voice-en", "rachel", "domi",
                    ])

                let chosen = try await api.call(
                    .put, "/api/v1/voices", token: tokens.staff, json: #"{"language":"en","voice":"rachel"}"#)
                #expect(chosen.status == 202)
                let pending = try AdminAPITests.object(chosen.body)
                #expect(pending["active"] as? String == "voice-en")
                #expect(pending["pending"] as? String == "rachel")
                await app.voices.settled("en")
                #expect(await app.voices.status(of: "en") == .init(active: "rachel", pending: nil, failure: nil))

                // Every English catalog phrase was fetched once in the new voice, no Spanish one.
                let englishTexts = app.makePhraseWarmer().texts.filter { $0.language == "en" }
                let warmed = tts.requests.withLockedValue { $0 }.filter { $0.voice == "rachel" }
                #expect(warmed.count == englishTexts.count)
                #expect(warmed.allSatisfy { $0.language == "en" })

                // A catalog line now comes from the cache in the new voice; a new sentence asks for it.
                let speech = app.makeSpeechOutput()
                let before = tts.requestCount
                for try await _ in speech.speak(Utterance(englishTexts[0].text, language: "en")) {}
                #expect(tts.requestCount == before)
                for try await _ in speech.speak(Utterance("A sentence never said before.", language: "en")) {}
                #expect(tts.requests.withLockedValue { $0 }.last?.voice == "rachel")
                // Spanish keeps its voice.
                for try await _ in speech.speak(Utterance("Una frase nueva.", language: "es")) {}
                #expect(tts.requests.withLockedValue { $0 }.last?.voice == "voice-es")

                #expect(
                    try await AdminAPITests.count(
                        app, "SELECT count(*) FROM audit_log WHERE action = 'voice.choose' AND actor = 'staff:Maria'")
                        == 1)

                let unknown = try await api.call(
                    .put, "/api/v1/voices", token: tokens.staff, json: #"{"language":"en","voice":"nobody"}"#)
                #expect(unknown.status == 422)
                #expect(try AdminAPITests.errorCode(unknown.body) == "unknown_voice")
                let french = try await api.call(
                    .put, "/api/v1/voices", token: tokens.staff, json: #"{"language":"fr","voice":"rachel"}"#)
                #expect(french.status == 422)
                #expect(try await AdminAPITests.count(app, "SELECT count(*) FROM voice_choices") == 1)

                // The same voice again: nothing to warm.
                let again = try await api.call(
                    .put, "/api/v1/voices", token: tokens.staff, json: #"{"language":"en","voice":"rachel"}"#)
                #expect(again.status == 200)
            }
        }
    }

    @Test(
        "each voice speaks with its own settings: warmed in them, a call's calmer and slower delivery starts from them")
    func ownSettings() async throws {
        let tts = ElevenLabsDouble()
        let router = Router()
        tts.register(on: router)
        try await withLoopbackServer(router) { cloud in
            let configure: @Sendable (inout AgentConfiguration) -> Void = { configuration in
                Self.configure(&configuration, cloud: cloud)
                configuration.textToSpeech.voiceChoices["en"] = [
                    VoiceChoice(
                        id: "voice-en", name: "House",
                        settings: VoiceStyle(stability: 0.3, similarityBoost: 0.8, style: 0, speed: 1.1)),
                    VoiceChoice(
                        id: "rachel", name: "Rachel",
                        settings: VoiceStyle(stability: 0.6, similarityBoost: 0.75, style: 0.1, speed: 0.95)),
                ]
            }
            try await AdminAPITests.withAgent(configure: configure) { app, api, tokens in
                let listed = try AdminAPITests.object(
                    try await api.call(.get, "/api/v1/voices", token: tokens.staff).body)
                let languages = try #require(listed["languages"] as? [[String: Any]])
                let english = try #require(languages.first { $0["language"] as? String == "en" })
                let rachel = try #require(
                    (english["voices"] as? [[String: Any]])?.first { $0["id"] as? String == "rachel" })
                #expect(
                    rachel["settings"] as? [String: Double] == [
                        "stability": 0.6, "similarity_boost": 0.75, "style": 0.1, "speed": 0.95,
                    ])

                // The configured voice speaks in its own settings, cached under keys of its own.
                let speech = app.makeSpeechOutput()
                for try await _ in speech.speak(Utterance("Welcome to the house.", language: "en")) {}
                #expect(tts.voiceSettings.withLockedValue { $0 }.last?.stability == 0.3)
                #expect(tts.voiceSettings.withLockedValue { $0 }.last?.speed == 1.1)
                let houseKey = try #require(speech.key(for: "Welcome to the house.", language: "en"))
                let standardKey = try #require(
                    speech.key(for: "Welcome to the house.", language: "en", style: .standard))
                #expect(houseKey.hex != standardKey.hex)
                #expect(app.phraseCache.cached(houseKey) != nil)

                _ = try await app.voices.choose("rachel", for: "en", actor: "test")
                await app.voices.settled("en")
                let warmed = tts.requests.withLockedValue { $0 }.enumerated().filter { $0.element.voice == "rachel" }
                let settings = tts.voiceSettings.withLockedValue { $0 }
                let englishTexts = app.makePhraseWarmer().texts.filter { $0.language == "en" }
                #expect(warmed.count == englishTexts.count)
                #expect(warmed.allSatisfy { settings[$0.offset].stability == 0.6 && settings[$0.offset].speed == 0.95 })
                // A catalog line now comes from the cache, in Rachel's settings, with no request.
                let requests = tts.requestCount
                for try await _ in speech.speak(Utterance(englishTexts[0].text, language: "en")) {}
                #expect(tts.requestCount == requests)

                // A caller who asked twice for slower and is strained: from Rachel's own 0.95.
                var utterance = Utterance("A sentence for a hurried caller.", language: "en")
                utterance.delivery = VoiceStyle.Delivery(calmer: true, slowerSteps: 2)
                for try await _ in speech.speak(utterance) {}
                #expect(tts.requests.withLockedValue { $0 }.last?.voice == "rachel")
                let asked = try #require(tts.voiceSettings.withLockedValue { $0 }.last)
                #expect(asked.stability == 0.8)
                #expect(asked.speed == 0.75)
            }
        }
    }

    @Test("a voice that cannot be warmed is not used: calls keep the old voice and staff see why")
    func failedWarm() async throws {
        let tts = ElevenLabsDouble(failWith: 401)
        let router = Router()
        tts.register(on: router)
        try await withLoopbackServer(router) { cloud in
            try await AdminAPITests.withAgent(configure: { Self.configure(&$0, cloud: cloud) }) { app, api, tokens in
                let chosen = try await api.call(
                    .put, "/api/v1/voices", token: tokens.staff, json: #"{"language":"en","voice":"domi"}"#)
                #expect(chosen.status == 202)
                await app.voices.settled("en")
                let status = await app.voices.status(of: "en")
                #expect(status.active == "voice-en")
                #expect(status.pending == nil)
                #expect(status.failure?.contains("could not be fetched") == true)
                #expect(app.voiceSelection.voice(for: "en") == nil)
            }
        }
    }

    @Test("a choice survives a restart: the next agent warms it again from the cache and uses it")
    func restart() async throws {
        let tts = ElevenLabsDouble()
        let router = Router()
        tts.register(on: router)
        try await withLoopbackServer(router) { cloud in
            let folder = TemporaryFolder()
            var configuration = testConfiguration(folder: folder)
            Self.configure(&configuration, cloud: cloud)
            let first = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
            _ = try await first.voices.choose("domi", for: "en", actor: "test")
            await first.voices.settled("en")
            await first.shutdown()
            let fetched = tts.requestCount

            let second = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
            #expect(second.voiceSelection.voice(for: "en") == nil)
            await second.voices.resume()
            await second.voices.settled("en")
            #expect(second.voiceSelection.voice(for: "en") == "domi")
            #expect(tts.requestCount == fetched)
            await second.shutdown()
        }
    }

    @Test("the staff page: a picker per language with the voice in use selected; a form with its token chooses")
    func staffPage() async throws {
        let tts = ElevenLabsDouble()
        let router = Router()
        tts.register(on: router)
        try await withLoopbackServer(router) { cloud in
            try await AdminAPITests.withAgent(configure: { Self.configure(&$0, cloud: cloud) }) { app, api, tokens in
                let login = try await api.call(.post, "/api/v1/session", json: #"{"token":"\#(tokens.staff)"}"#)
                let cookie = try #require(login.headers[.setCookie]).dropFirst(AdminAccess.cookieName.count + 1)
                    .prefix { $0 != ";" }
                let csrf = try #require(try AdminAPITests.object(login.body)["csrf_token"] as? String)
                let headers: HTTPFields = [
                    .cookie: "\(AdminAccess.cookieName)=\(cookie)", .contentType: "application/x-www-form-urlencoded",
                ]
                let page = String(buffer: try await api.client.execute(uri: "/", method: .get, headers: headers).body)
                #expect(page.contains(#"<select id="voice-en" name="voice">"#))
                #expect(page.contains(#"<option value="voice-en" selected>voice-en</option>"#))
                #expect(page.contains(#"<option value="rachel">Rachel</option>"#))
                // Spanish has one voice only: nothing to choose.
                #expect(!page.contains(#"id="voice-es""#))

                let forged = try await api.client.execute(
                    uri: "/voices/en", method: .post, headers: headers, body: ByteBuffer(string: "voice=rachel"))
                #expect(forged.status == .forbidden)
                #expect(try await AdminAPITests.count(app, "SELECT count(*) FROM voice_choices") == 0)

                let chosen = try await api.client.execute(
                    uri: "/voices/en", method: .post, headers: headers,
                    body: ByteBuffer(string: "csrf_token=\(csrf)&voice=rachel"))
                #expect(chosen.status == .seeOther)
                await app.voices.settled("en")
                let after = String(buffer: try await api.client.execute(uri: "/", method: .get, headers: headers).body)
                #expect(after.contains(#"<option value="rachel" selected>Rachel</option>"#))
                #expect(after.contains("in use: Rachel"))
            }
        }
    }
}
