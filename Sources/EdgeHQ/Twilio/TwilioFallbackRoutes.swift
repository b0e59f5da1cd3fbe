public import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import Sync
import TwilioWire

/// Callers still reach someone when the restaurant's internet line is down. The box registers the
/// site's Twilio account (`PUT /v1/device/twilio`, signed by the box) and sets its number's
/// `VoiceFallbackUrl` to `POST /v1/twilio/fallback/{site}`; when Twilio cannot reach the box it asks
/// headquarters, which answers (every request signed by Twilio with the site's auth token) with the
/// restaurant's message in the caller's likely language, dials the restaurant's landline, and
/// otherwise records a voicemail that ``VoicemailImporter`` brings in for the box.
public struct TwilioFallbackRoutes: Sendable {
    let authenticator: RequestAuthenticator
    let accounts: SiteTwilioAccounts
    let calls: FallbackCalls
    let importer: VoicemailImporter
    let metrics: HQMetrics
    /// `EDGE_HQ_PUBLIC_URL`, when set.
    let publicURL: URL?
    /// Whether headquarters serves TLS itself (the scheme of a base taken from the request).
    let servesTLS: Bool
    let now: @Sendable () -> Int64
    /// How long the landline rings before the caller is offered the voicemail.
    public var dialTimeoutSeconds = 20

    /// Countries whose callers are greeted in Spanish when headquarters knows nothing better.
    static let spanishSpeakingCountries: Set<String> = [
        "AR", "BO", "CL", "CO", "CR", "CU", "DO", "EC", "ES", "GQ", "GT", "HN", "MX", "NI", "PA", "PE", "PR", "PY",
        "SV", "UY", "VE",
    ]

    public init(
        authenticator: RequestAuthenticator, accounts: SiteTwilioAccounts, calls: FallbackCalls,
        importer: VoicemailImporter, metrics: HQMetrics, publicURL: URL?, servesTLS: Bool,
        now: @escaping @Sendable () -> Int64
    ) {
        self.authenticator = authenticator
        self.accounts = accounts
        self.calls = calls
        self.importer = importer
        self.metrics = metrics
        self.publicURL = publicURL
        self.servesTLS = servesTLS
        self.now = now
    }

    /// The path of a site's fallback URL.
    public static func path(site: String) -> String { "/v1/twilio/fallback/\(site)" }

    public func register(on router: Router<some RequestContext>) {
        router.put("/v1/device/twilio") { request, context in
            try await registerAccount(request, context: context)
        }
        router.post("/v1/twilio/fallback/:site") { request, context in
            try await answer(request, context: context) { account, form in
                try await incoming(account, form, context: context)
            }
        }
        router.post("/v1/twilio/fallback/:site/dial") { request, context in
            try await answer(request, context: context) { account, form in
                try await dialEnded(account, form)
            }
        }
        router.post("/v1/twilio/fallback/:site/recorded") { request, context in
            try await answer(request, context: context) { account, form in
                let language = try await language(ofCall: form["CallSid"], account: account)
                return Self.twiml(FallbackTwiML.goodbye(language: language))
            }
        }
        router.post("/v1/twilio/fallback/:site/recording") { request, context in
            try await answer(request, context: context) { account, form in
                try await recordingReady(account, form, context: context)
            }
        }
    }

    // MARK: The box registers its account

    func registerAccount(_ request: Request, context: some RequestContext) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 16 * 1024)
        } catch {
            throw HQError(.contentTooLarge, code: "payload_too_large", message: "the body is larger than 16384 bytes")
        }
        let device = try await authenticator.device(
            signing: request, body: body, metrics: metrics, logger: context.logger)
        let registration: TwilioRegistrationRequest
        do {
            registration = try JSONDecoder().decode(TwilioRegistrationRequest.self, from: Data(body.readableBytesView))
        } catch {
            throw HQError.badRequest(
                "the registration is not {account_sid, auth_token, phone_number, landline, language, restaurant_name} JSON"
            )
        }
        let account = try await accounts.register(
            site: device.siteID, registration, publicBase: publicBase(of: request))
        context.logger.info(
            "Twilio account registered for the site's fallback",
            metadata: ["site.id": .string(device.siteID), "device.id": .string(device.id)])
        return try SyncRoutes.json(TwilioRegistrationResponse(fallbackURL: account.fallbackURL), status: .ok)
    }

    /// `EDGE_HQ_PUBLIC_URL`, or the scheme and `Host` the box reached headquarters with.
    func publicBase(of request: Request) throws -> String {
        if let publicURL {
            var text = publicURL.absoluteString
            while text.hasSuffix("/") { text.removeLast() }
            return text
        }
        guard let host = request.head.authority, !host.isEmpty else {
            throw HQError.badRequest("the request names no host; set EDGE_HQ_PUBLIC_URL at headquarters")
        }
        return (servesTLS ? "https://" : "http://") + host
    }

    // MARK: Twilio's requests

    /// Reads the site's account and the form, checks Twilio's signature over the URL it requested, and
    /// answers with `body`'s response. An unknown site is a 404, a bad signature a 403: nothing stored.
    func answer(
        _ request: Request, context: some RequestContext,
        _ body: (SiteTwilioAccount, FormParameters) async throws -> Response
    ) async throws -> Response {
        guard let site = context.parameters.get("site"), site.count <= 64 else {
            throw HQError(.notFound, code: "unknown_site", message: "no such site")
        }
        guard let account = try await accounts.account(site: site) else {
            throw HQError(
                .notFound, code: "unknown_site",
                message:
                    "no Twilio account is registered for this site; run edge-agent provision --twilio-number on its box"
            )
        }
        let raw: ByteBuffer
        do {
            raw = try await request.body.collect(upTo: 64 * 1024)
        } catch {
            throw HQError(.contentTooLarge, code: "payload_too_large", message: "the body is larger than 65536 bytes")
        }
        guard let form = FormParameters(body: raw.readableBytesView) else {
            throw HQError.badRequest("the body is not a form")
        }
        let url = account.publicBase + request.uri.description
        guard
            TwilioSignature.isValid(
                header: request.headers[HTTPField.Name("X-Twilio-Signature")!], url: url, parameters: form,
                authToken: account.authToken),
            form["AccountSid"] == account.accountSID
        else {
            metrics.authenticationFailures("bad_twilio_signature").increment()
            context.logger.warning(
                "a Twilio fallback request failed its signature", metadata: ["site.id": .string(site)])
            throw HQError.forbidden("bad_signature", "X-Twilio-Signature does not match this site's Twilio account")
        }
        return try await body(account, form)
    }

    /// The call Twilio could not take to the box: greet it, then the landline or the voicemail.
    func incoming(_ account: SiteTwilioAccount, _ form: FormParameters, context: some RequestContext) async throws
        -> Response
    {
        guard let callSID = form["CallSid"], !callSID.isEmpty else { throw HQError.badRequest("CallSid is missing") }
        let caller = form["From"].flatMap { SiteTwilioAccounts.isE164($0) ? $0 : nil }
        let language = try await likelyLanguage(caller: caller, country: form["FromCountry"], account: account)
        try await calls.begin(site: account.siteID, callSID: callSID, caller: caller, language: language, at: now())
        context.logger.notice(
            "a call reached headquarters' fallback: the box did not answer",
            metadata: [
                "site.id": .string(account.siteID), "twilio.error_code": .string(form["ErrorCode"] ?? "none"),
            ])
        let base = account.fallbackURL
        return Self.twiml(
            FallbackTwiML.greeting(
                restaurant: account.restaurantName, language: language, landline: account.landline,
                dialTimeoutSeconds: dialTimeoutSeconds, dialAction: base + "/dial", recordAction: base + "/recorded",
                recordingCallback: base + "/recording"))
    }

    /// The landline's `<Dial>` ended: the restaurant answered (hang up) or not (the voicemail).
    func dialEnded(_ account: SiteTwilioAccount, _ form: FormParameters) async throws -> Response {
        let status = form["DialCallStatus"] ?? "failed"
        if let callSID = form["CallSid"] {
            try await calls.dialed(site: account.siteID, callSID: callSID, status: status)
        }
        guard status != "completed" else { return Self.twiml(FallbackTwiML.hangUp()) }
        let language = try await language(ofCall: form["CallSid"], account: account)
        let base = account.fallbackURL
        return Self.twiml(
            FallbackTwiML.voicemail(
                language: language, recordAction: base + "/recorded", recordingCallback: base + "/recording"))
    }

    /// The recording status callback: a completed voicemail is imported now, or by the retry loop.
    func recordingReady(_ account: SiteTwilioAccount, _ form: FormParameters, context: some RequestContext)
        async throws -> Response
    {
        guard form["RecordingStatus"] == "completed", let callSID = form["CallSid"],
            let recordingSID = form["RecordingSid"], let url = form["RecordingUrl"]
        else {
            context.logger.warning(
                "a voicemail recording did not complete at Twilio",
                metadata: ["twilio.recording_status": .string(form["RecordingStatus"] ?? "none")])
            return Response(status: .noContent)
        }
        guard recordingSID.hasPrefix("RE"), recordingSID.count == 34,
            URL(string: url)?.scheme.map({ ["https", "http"].contains($0) }) == true
        else {
            throw HQError.badRequest("RecordingSid or RecordingUrl is not Twilio's")
        }
        let seconds = form["RecordingDuration"].flatMap(Int.init) ?? 0
        guard
            try await calls.recorded(
                site: account.siteID, callSID: callSID, recordingSID: recordingSID, url: url, seconds: seconds)
        else {
            throw HQError(.notFound, code: "unknown_call", message: "no fallback call has this CallSid")
        }
        await importer.importCall(site: account.siteID, callSID: callSID)
        return Response(status: .noContent)
    }

    // MARK: Language

    /// The caller's language as headquarters knows it: the customer's preferred language from the
    /// site's synced customers, else Spanish for a caller from a Spanish-speaking country, else the
    /// restaurant's.
    func likelyLanguage(caller: String?, country: String?, account: SiteTwilioAccount) async throws -> String {
        if let caller {
            let rows = try await accounts.database.query(
                """
                SELECT row ->> 'preferred_language' FROM customers
                WHERE site_id = \(account.siteID) AND row ->> 'phone' = \(caller) LIMIT 1
                """, logger: accounts.logger)
            for try await preferred in rows.decode(String?.self) {
                if let preferred, ["en", "es"].contains(preferred) { return preferred }
            }
        }
        if let country, Self.spanishSpeakingCountries.contains(country.uppercased()) { return "es" }
        return account.language
    }

    func language(ofCall callSID: String?, account: SiteTwilioAccount) async throws -> String {
        guard let callSID, let call = try await calls.call(site: account.siteID, callSID: callSID) else {
            return account.language
        }
        return call.language
    }

    static func twiml(_ document: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: document)))
    }
}
