import AsyncHTTPClient
import Foundation
import NIOCore
import SyncAgent

/// The doctor's checks that leave the box: each configured cloud provider asked a cheap authenticated
/// question with its key (never a spoken phrase: nothing is billed), headquarters asked who the box
/// is with a signed no-op, and Twilio asked where the restaurant's number sends its calls.
extension Doctor {
    /// Every network check, asked at once; printed in this order.
    func network() async -> [DoctorCheck] {
        async let llm = languageModel()
        async let fallback = languageModelFallback()
        async let voice = elevenLabs()
        async let listening = deepgram()
        async let headquarters = headquarters()
        async let number = twilioNumber()
        return await [llm, fallback, voice, listening, headquarters, number].compactMap { $0 }
    }

    /// `GET {llm.base_url}/models`: the key is accepted and the configured model is offered.
    func languageModel() async -> DoctorCheck? {
        let llm = app.configuration.llm
        if llm.apiKey == nil, llm.baseURL.host == "api.openai.com" {
            return DoctorCheck(
                "language model", .warn, "no key for the language model: every call takes the keypad flow",
                fix: "set OPENAI_API_KEY (or OPENAI_BASE_URL to a local OpenAI-compatible server)")
        }
        return await modelsCheck(
            "language model", baseURL: llm.baseURL, model: llm.model, baseSetting: "OPENAI_BASE_URL")
    }

    /// The fallback endpoint's models list, when one is configured.
    func languageModelFallback() async -> DoctorCheck? {
        let llm = app.configuration.llm
        guard let url = llm.fallbackBaseURL, let model = llm.fallbackModel else { return nil }
        return await modelsCheck(
            "language model fallback", baseURL: url, model: model, baseSetting: "EDGE_LLM_FALLBACK_BASE_URL")
    }

    private func modelsCheck(_ name: String, baseURL: URL, model: String, baseSetting: String) async -> DoctorCheck {
        var headers: [(String, String)] = []
        if let key = app.configuration.llm.apiKey { headers.append(("Authorization", "Bearer \(key.value)")) }
        let answer = await ask(
            name, url: baseURL.joining("/models"), headers: headers, keySetting: "OPENAI_API_KEY",
            baseSetting: baseSetting)
        guard case .answered(let body) = answer else { return answer.check! }
        struct Models: Decodable {
            struct Model: Decodable { let id: String }
            let data: [Model]
        }
        guard let models = try? JSONDecoder().decode(Models.self, from: body) else {
            return DoctorCheck(
                name, .fail, "\(baseURL.host ?? "the server") answered, but not an OpenAI-compatible model list",
                fix: "check \(baseSetting): it ends in /v1")
        }
        guard models.data.contains(where: { $0.id == model }) else {
            return DoctorCheck(
                name, .warn, "key accepted, but the model \(model) is not among the \(models.data.count) offered",
                fix: "check EDGE_LLM_MODEL against the provider's model list")
        }
        return DoctorCheck(name, .pass, "key accepted, \(model) offered")
    }

    /// `GET {tts.base_url}/v1/models` with `xi-api-key`: the key is accepted and the model exists.
    func elevenLabs() async -> DoctorCheck? {
        let tts = app.configuration.textToSpeech
        guard let key = tts.apiKey else { return nil }  // The phrase-cache check says there is no cloud voice.
        let answer = await ask(
            "cloud voice", url: tts.baseURL.joining("/v1/models"), headers: [("xi-api-key", key.value)],
            keySetting: "ELEVENLABS_API_KEY", baseSetting: "ELEVENLABS_BASE_URL")
        guard case .answered(let body) = answer else { return answer.check! }
        struct Model: Decodable {
            let modelID: String
            enum CodingKeys: String, CodingKey { case modelID = "model_id" }
        }
        guard let models = try? JSONDecoder().decode([Model].self, from: body) else {
            return DoctorCheck(
                "cloud voice", .fail, "the server answered, but not ElevenLabs' model list",
                fix: "check ELEVENLABS_BASE_URL")
        }
        guard models.contains(where: { $0.modelID == tts.model }) else {
            return DoctorCheck(
                "cloud voice", .warn, "key accepted, but the model \(tts.model) is not offered",
                fix: "check EDGE_TTS_MODEL (for example eleven_flash_v2_5)")
        }
        return DoctorCheck("cloud voice", .pass, "ElevenLabs key accepted, \(tts.model) offered")
    }

    /// `GET {deepgram}/v1/projects` with `Authorization: Token …`, over https for a wss base.
    func deepgram() async -> DoctorCheck? {
        let speech = app.configuration.speechToText
        guard let key = speech.deepgramAPIKey else { return nil }
        var components = URLComponents(url: speech.deepgramBaseURL, resolvingAgainstBaseURL: false)
        components?.scheme = speech.deepgramBaseURL.scheme == "ws" ? "http" : "https"
        guard let base = components?.url else {
            return DoctorCheck("speech recognition", .fail, "DEEPGRAM_BASE_URL does not parse", fix: "check it")
        }
        let answer = await ask(
            "speech recognition", url: base.joining("/v1/projects"), headers: [("Authorization", "Token \(key.value)")],
            keySetting: "DEEPGRAM_API_KEY", baseSetting: "DEEPGRAM_BASE_URL")
        guard case .answered = answer else { return answer.check! }
        return DoctorCheck("speech recognition", .pass, "Deepgram key accepted")
    }

    /// A signed `GET /v1/device`: headquarters is reachable and accepts the device's key.
    func headquarters() async -> DoctorCheck? {
        let directory = app.configuration.dataDirectory
        let link: HeadquartersLink?
        let identity: DeviceIdentity?
        do {
            link = try HeadquartersLink.load(
                dataDirectory: directory, urlOverride: app.configuration.headquartersURL?.absoluteString)
            identity = try DeviceIdentity.load(dataDirectory: directory)
        } catch {
            return DoctorCheck(
                "headquarters", .fail, error.description, fix: "edge-agent provision --force --hq URL --token TOKEN")
        }
        guard let link, let identity else {
            return DoctorCheck(
                "headquarters", .warn, "not enrolled: bookings stay on this box only",
                fix: "edge-agent provision --hq URL --token TOKEN (a token from edge-hq enrol-token SITE)")
        }
        do {
            let client = try SyncClient(
                baseURL: link.url, caCertificatePEM: link.caCertificatePEM, timeout: networkTimeout, logger: app.logger)
            defer { Task { await client.shutdown() } }
            let answer = try await client.device(identity: identity, deviceID: link.deviceID)
            return DoctorCheck("headquarters", .pass, "device key accepted, site \(answer.siteName)")
        } catch  where error.code == .refused && error.status == 401 {
            return DoctorCheck(
                "headquarters", .fail, "headquarters refused this box's key (\(error.serverCode ?? "401"))",
                fix:
                    "the device was revoked or enrolled again elsewhere: edge-agent provision --force --hq URL --token TOKEN"
            )
        } catch {
            return DoctorCheck(
                "headquarters", .fail, error.description,
                fix: error.isRetryable
                    ? "check the internet line and the headquarters URL (EDGE_HQ_URL)"
                    : "edge-agent provision --force --hq URL --token TOKEN")
        }
    }

    /// Twilio's `IncomingPhoneNumbers`: the provisioned number is this account's, sends calls to this
    /// box, and falls back to headquarters.
    func twilioNumber() async -> DoctorCheck? {
        let configuration = app.configuration
        let reprovision = "edge-agent provision --twilio-number NUMBER"
        guard let provisioned = ProvisionedNumber.load(dataDirectory: configuration.dataDirectory) else {
            return DoctorCheck(
                "twilio number", .warn, "no Twilio number provisioned: its voice URL is not checked",
                fix: reprovision)
        }
        guard let account = configuration.twilio.accountSID, let token = configuration.twilio.authToken else {
            return DoctorCheck(
                "twilio number", .fail,
                "\(provisioned.phoneNumber) is provisioned but Twilio's credentials are not set",
                fix: "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in /etc/edge-agent/secrets.env")
        }
        let client = TwilioRESTClient(
            http: app.http, baseURL: configuration.twilio.apiBaseURL, accountSID: account, authToken: token,
            timeout: networkTimeout, logger: app.logger)
        let number: IncomingPhoneNumber?
        do {
            number = try await client.incomingPhoneNumber(provisioned.phoneNumber)
        } catch let error as TwilioRESTClient.RequestError where error.status == 401 || error.status == 403 {
            return DoctorCheck(
                "twilio number", .fail, "Twilio refused the account's credentials (HTTP \(error.status))",
                fix: "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        } catch {
            return DoctorCheck(
                "twilio number", .fail, "Twilio's REST API cannot be asked: \(Self.describe(error))",
                fix: "check the internet line and TWILIO_API_BASE_URL")
        }
        guard let number else {
            return DoctorCheck(
                "twilio number", .fail, "\(provisioned.phoneNumber) is not a number of Twilio account \(account)",
                fix: "check the number and TWILIO_ACCOUNT_SID, then \(reprovision)")
        }
        let expected = Self.voiceURL(of: configuration)
        guard number.voiceURL == expected else {
            return DoctorCheck(
                "twilio number", .fail,
                "\(number.phoneNumber) sends calls to \(number.voiceURL ?? "nowhere"), not to this box (\(expected))",
                fix: reprovision)
        }
        guard let fallback = number.voiceFallbackURL, !fallback.isEmpty else {
            return DoctorCheck(
                "twilio number", .fail,
                "\(number.phoneNumber) has no fallback URL: with the box offline, callers hear Twilio's error",
                fix: reprovision)
        }
        return DoctorCheck("twilio number", .pass, "\(number.phoneNumber) calls this box, falls back to \(fallback)")
    }

    /// Where Twilio must send the restaurant's calls: this box's voice webhook.
    static func voiceURL(of configuration: AgentConfiguration) -> String {
        configuration.publicURL.joining("/twilio/voice")
    }

    /// How one authenticated GET went: answered with a body, or a check that says what went wrong.
    enum Answer {
        case answered(Data)
        case failed(DoctorCheck)

        var check: DoctorCheck? {
            if case .failed(let check) = self { return check }
            return nil
        }
    }

    /// GETs `url` with `headers` within ``networkTimeout``; a refused key, another status and no answer
    /// each become a failed check naming the setting to look at.
    func ask(
        _ name: String, url: String, headers: [(String, String)], keySetting: String, baseSetting: String
    ) async -> Answer {
        var request = HTTPClientRequest(url: url)
        for (field, value) in headers { request.headers.add(name: field, value: value) }
        let host = URL(string: url)?.host ?? url
        do {
            let response = try await app.http.execute(request, timeout: networkTimeout)
            let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
            switch response.status.code {
            case 200..<300:
                return .answered(Data(buffer: body))
            case 401, 403:
                return .failed(
                    DoctorCheck(
                        name, .fail, "\(host) refused the key (HTTP \(response.status.code))",
                        fix: "check \(keySetting)"))
            default:
                return .failed(
                    DoctorCheck(
                        name, .fail, "\(host) answered HTTP \(response.status.code)",
                        fix: "check \(baseSetting), and the provider's status page"))
            }
        } catch {
            return .failed(
                DoctorCheck(
                    name, .fail, "\(host) cannot be reached: \(Self.describe(error))",
                    fix: "check the internet line and \(baseSetting)"))
        }
    }

    /// An HTTP client error in a few words (no URL with a key in it: keys travel in headers only).
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "no answer in time"
            case .remoteConnectionClosed: return "the connection was closed"
            default: break
            }
        }
        return "\(error)"
    }
}
