import Foundation
import LocalStore
import Logging
public import Resilience
import SyncAgent

/// The cloud providers and what stands in for them, each behind its upstream's circuit: the language
/// model, speech-to-text, the voices, text messages and the phrase warmer.
extension EdgeAgentApp {
    /// The primary model, and the fallback endpoint when one is configured, each behind its upstream.
    public func makeLanguageModel() -> any LanguageModel {
        let llm = configuration.llm
        let primary = OpenAIChatClient(
            http: http, baseURL: llm.baseURL, apiKey: llm.apiKey, model: llm.model)
        var fallback: (any LanguageModel)?
        if let url = llm.fallbackBaseURL, let model = llm.fallbackModel {
            fallback = OpenAIChatClient(http: http, baseURL: url, apiKey: llm.apiKey, model: model)
        }
        return FallbackLanguageModel(
            primary: primary, primaryUpstream: upstreams.llm, fallback: fallback,
            fallbackUpstream: upstreams.llmFallback, metrics: metrics, logger: logger)
    }

    /// Deepgram when it is configured, then the OpenAI-compatible transcription endpoint, each behind its
    /// upstream.
    public func makeRecognizer() -> any SpeechRecognizer {
        let speech = configuration.speechToText
        let llm = configuration.llm
        var chain: [(name: String, recognizer: any SpeechRecognizer)] = []
        if let key = speech.deepgramAPIKey {
            chain.append(
                (
                    "deepgram",
                    GuardedRecognizer(
                        DeepgramRecognizer(baseURL: speech.deepgramBaseURL, apiKey: key, logger: logger),
                        upstream: upstreams.deepgram)
                ))
        }
        chain.append(
            (
                "transcription",
                GuardedRecognizer(
                    OpenAITranscriptionClient(
                        http: http, baseURL: speech.transcriptionBaseURL ?? llm.baseURL, apiKey: llm.apiKey,
                        model: speech.transcriptionModel),
                    upstream: upstreams.transcription)
            ))
        return FallbackRecognizer(chain: chain, metrics: metrics, logger: logger)
    }

    /// The upstreams the configuration uses, for `/readyz`.
    public var configuredUpstreams: [Upstream] {
        var used = [upstreams.llm, upstreams.transcription]
        if configuration.llm.fallbackBaseURL != nil { used.append(upstreams.llmFallback) }
        if configuration.speechToText.deepgramAPIKey != nil { used.append(upstreams.deepgram) }
        if configuration.textToSpeech.apiKey != nil { used.append(upstreams.elevenLabs) }
        if configuration.twilio.accountSID != nil { used.append(upstreams.twilio) }
        if twilioRecordingImporter != nil { used.append(upstreams.twilioMedia) }
        if configuration.headquartersURL != nil
            || (try? HeadquartersLink.load(dataDirectory: configuration.dataDirectory)) != nil
        {
            used.append(upstreams.headquarters)
        }
        return used
    }

    /// The cloud voice (ElevenLabs) when it is configured, with the phrase cache in front of it and the
    /// local voice behind; the local voice alone otherwise.
    public func makeSpeechOutput() -> SpeechOutput {
        let tts = configuration.textToSpeech
        let voices = tts.voicesByLanguage
        var provider: SpeechOutput.Provider?
        if tts.apiKey != nil, !voices.isEmpty {
            let client = ElevenLabsClient(
                http: http, baseURL: tts.baseURL, apiKey: tts.apiKey, voices: voices, model: tts.model, logger: logger)
            provider = SpeechOutput.Provider(
                synthesizer: GuardedSynthesizer(client, upstream: upstreams.elevenLabs), voices: client.identities,
                maxCharacters: tts.maxCharacters, settings: tts.voiceSettings)
        }
        return SpeechOutput(
            provider: provider, cache: phraseCache, localVoice: LocalVoice(logger: logger), metrics: metrics,
            logger: logger, selection: voiceSelection)
    }

    /// Whether text confirmations can be sent: `sms.enabled`, Twilio's account and `sms.from`.
    public var textMessagesReady: Bool {
        configuration.textMessages.enabled && configuration.textMessages.from != nil
            && configuration.twilio.accountSID != nil && configuration.twilio.authToken != nil
    }

    /// Writes the texts, when they can be sent.
    var textConfirmationWriter: TextConfirmationWriter? {
        guard textMessagesReady else { return nil }
        return TextConfirmationWriter(
            phrases: phrases, restaurantName: configuration.restaurant.name,
            lookupConfigured: configuration.textMessages.lookup)
    }

    /// Sends the queued texts through Twilio, when they can be sent.
    public func makeTextConfirmationSender(idle: Duration = .seconds(30)) -> TextConfirmationSender? {
        guard textMessagesReady, let sid = configuration.twilio.accountSID, let token = configuration.twilio.authToken,
            let from = configuration.textMessages.from
        else { return nil }
        let client = TwilioRESTClient(
            http: http, baseURL: configuration.twilio.apiBaseURL, accountSID: sid, authToken: token, logger: logger)
        return TextConfirmationSender(
            queue: TextConfirmations(database: database),
            twilio: client, lookupBaseURL: configuration.twilio.lookupBaseURL,
            from: from, lookup: configuration.textMessages.lookup, wake: textSignal.wakes, idle: idle, logger: logger)
    }

    /// Switches voices when staff choose another: one per app, made when first asked for.
    public var voices: VoiceSwitcher {
        voiceSelection.switcher.withLock { slot in
            if let slot { return slot }
            let switcher = makeVoiceSwitcher()
            slot = switcher
            return switcher
        }
    }

    private func makeVoiceSwitcher() -> VoiceSwitcher {
        let tts = configuration.textToSpeech
        let configured = tts.voicesByLanguage
        let app = self
        return VoiceSwitcher(
            selection: voiceSelection, store: VoiceChoiceStore(database: database), configured: configured,
            choices: ["en": tts.choices(for: "en"), "es": tts.choices(for: "es")],
            warmer: { language in
                let warmer = app.makePhraseWarmer()
                return PhraseWarmer(
                    speech: warmer.speech, cache: warmer.cache, texts: warmer.texts.filter { $0.language == language },
                    concurrency: warmer.concurrency, logger: warmer.logger)
            }, logger: logger)
    }

    /// A warmer for every phrase of the catalog in the configured voices.
    public func makePhraseWarmer(concurrency: Int? = nil) -> PhraseWarmer {
        PhraseWarmer(
            speech: makeSpeechOutput(), cache: phraseCache,
            texts: PhraseWarmer.catalogTexts(
                catalogs: catalogs, policy: policies.current, phraseBook: phrases,
                restaurantName: configuration.restaurant.name),
            concurrency: concurrency ?? configuration.phraseCache.warmConcurrency, logger: logger)
    }
}
