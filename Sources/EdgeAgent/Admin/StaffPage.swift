import Foundation
public import Hummingbird
import LocalStore
import Mustache
import NIOCore

/// The staff page at `/`: today's book, messages to handle, recent calls with their transcripts, the
/// menu with an on/off switch per item, and a health strip. Server-rendered from the templates in
/// `Resources/staff-page` (no JavaScript), in English or Spanish by the browser's language. Behind the
/// same ``AdminAccess`` as `/api/v1`: the allowed networks, a login with a token or a name and PIN,
/// the session cookie, and the session's CSRF token in every form that changes something.
public struct StaffPage: Sendable {
    let queries: AdminQueries
    let access: AdminAccess
    let templates: MustacheLibrary
    let restaurant: String
    let timeZone: @Sendable () -> TimeZone
    let voices: VoiceSwitcher

    /// Loads the templates shipped in the resource bundle.
    public init(app: EdgeAgentApp, access: AdminAccess) throws {
        var library = MustacheLibrary()
        for name in ["head", "login", "book", "call", "message"] {
            guard let url = Bundle.module.url(forResource: name, withExtension: "mustache", subdirectory: "staff-page"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            else { throw StartupError("the staff page's template \(name) is missing from the installation") }
            try library.register(text, named: name)
        }
        self.templates = library
        self.queries = AdminQueries(app: app)
        self.access = access
        self.restaurant = app.configuration.restaurant.name.isEmpty ? "edge-agent" : app.configuration.restaurant.name
        let policies = app.policies
        self.timeZone = { policies.current.timeZone }
        self.voices = app.voices
    }

    public func register(on router: Router<AgentRequestContext>) {
        router.get("/") { request, context in try await page(request, context: context) }
        router.post("/login") { request, context in try await logIn(request, context: context) }
        router.post("/logout") { request, context in
            try await change(request, context: context) { _, _ in
                if let cookie = request.cookies[AdminAccess.cookieName]?.value { access.sessions.end(cookie: cookie) }
            }
        }
        router.post("/messages/:id/handled") { request, context in
            try await change(request, context: context) { form, context in
                let id = try context.parameters.require("id")
                guard try await queries.markHandled(id: id, actor: AdminAPIRoutes.actor(context)) != nil else {
                    throw APIError(.notFound, code: "not_found", message: "no message \(id)")
                }
            }
        }
        router.post("/menu/:id") { request, context in
            try await change(request, context: context) { form, context in
                let id = try context.parameters.require("id")
                guard let value = form["available"], ["0", "1"].contains(value) else {
                    throw APIError.badRequest("available must be 0 or 1")
                }
                guard
                    try await queries.setAvailable(
                        id: id, available: value == "1", actor: AdminAPIRoutes.actor(context))
                        != nil
                else { throw APIError(.notFound, code: "not_found", message: "no menu item \(id)") }
            }
        }
        router.post("/voices/:language") { request, context in
            try await change(request, context: context) { form, context in
                let language = try context.parameters.require("language")
                guard PhraseBook.languages.contains(language), let voice = form["voice"], !voice.isEmpty else {
                    throw APIError.badRequest("choose a voice for en or es")
                }
                do {
                    _ = try await voices.choose(voice, for: language, actor: AdminAPIRoutes.actor(context))
                } catch let error as VoiceSwitcher.UnknownVoice {
                    throw APIError(.unprocessableContent, code: "unknown_voice", message: error.description)
                }
            }
        }
        router.get("/calls/:id") { request, context in try await callPage(request, context: context) }
    }

    /// Each language's voices for the picker: the one chosen (being warmed, or in use) selected.
    func voiceChoices(texts: [String: String], csrf: String) async -> [[String: Any]] {
        var languages: [[String: Any]] = []
        for language in PhraseBook.languages {
            let choices = await voices.voices(for: language)
            guard choices.count > 1 else { continue }
            let status = await voices.status(of: language)
            let selected = status.pending ?? status.active
            var state = texts["voiceInUse"]! + " " + (choices.first { $0.id == status.active }?.name ?? "-")
            if let pending = status.pending {
                state += "; " + texts["voiceWarming"]! + " " + (choices.first { $0.id == pending }?.name ?? pending)
            }
            if status.failure != nil { state += "; " + texts["voiceFailed"]! }
            languages.append([
                "language": language, "label": texts["voiceLanguage." + language]!, "csrf": csrf, "state": state,
                "choices": choices.map {
                    ["id": $0.id, "name": $0.name, "selected": $0.id == selected] as [String: Any]
                },
            ])
        }
        return languages
    }

    // MARK: - Language

    /// `es` when the browser prefers Spanish over English, else `en`.
    static func language(_ request: Request) -> String {
        let header = request.headers[.acceptLanguage] ?? ""
        for part in header.split(separator: ",") {
            let tag =
                part.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if tag.hasPrefix("es") { return "es" }
            if tag.hasPrefix("en") { return "en" }
        }
        return "en"
    }

    // MARK: - Rendering

    func html(_ template: String, _ values: [String: Any], request: Request, status: HTTPResponse.Status = .ok)
        -> Response
    {
        let language = Self.language(request)
        var values = values
        values["t"] = StaffPageText.texts[language] ?? StaffPageText.texts["en"]!
        values["restaurant"] = restaurant
        let text = templates.render(values, withTemplate: template) ?? ""
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .init("X-Frame-Options")!: "DENY",
                .init("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func problem(_ error: APIError, request: Request) -> Response {
        let texts = StaffPageText.texts[Self.language(request)] ?? StaffPageText.texts["en"]!
        return html(
            "message", ["title": texts["problem"]!, "heading": texts["problem"]!, "message": error.message],
            request: request, status: error.status)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The session of the request's cookie, or nil (the login page is shown instead).
    func session(_ request: Request, context: AgentRequestContext) async throws -> AdminSessions.Session? {
        guard let cookie = request.cookies[AdminAccess.cookieName]?.value else { return nil }
        return try await access.session(cookie: cookie)
    }

    // MARK: - Pages

    func page(_ request: Request, context: AgentRequestContext) async throws -> Response {
        do {
            try access.checkNetwork(context)
        } catch let error as APIError {
            return problem(error, request: request)
        }
        guard let session = try await session(request, context: context) else {
            return html("login", ["title": StaffPageText.title(request, "login")], request: request)
        }
        let texts = StaffPageText.texts[Self.language(request)] ?? StaffPageText.texts["en"]!
        let reader = "staff:\(session.identity.name)"
        let book = try await queries.book(on: nil, reader: reader)
        let messages = try await queries.messages(status: nil, reader: reader).filter { $0.status != "done" }
        let calls = try await queries.calls(limit: 20, before: nil)
        let menu = try await queries.menu(language: Self.language(request))
        let health = try await queries.health()
        let zone = timeZone()
        let language = Self.language(request)
        var strip: [[String: Any]] = health.checks.sorted { $0.key < $1.key }.map {
            ["name": $0.key, "status": $0.value.status, "label": texts[$0.value.status] ?? $0.value.status]
        }
        let backlogStatus = health.sync.backlog > 1000 ? "degraded" : "up"
        strip.append(["name": texts["sync"]!, "status": backlogStatus, "label": "\(health.sync.backlog)"])
        strip.append([
            "name": texts["cache"]!, "status": "up", "label": "\(Int((health.phraseCache.hitRate * 100).rounded()))%",
        ])
        if let free = health.diskFreeBytes {
            strip.append([
                "name": texts["disk"]!, "status": "up",
                "label": ByteCountFormatter.string(fromByteCount: free, countStyle: .file),
            ])
        }
        let voicePicker = await voiceChoices(texts: texts, csrf: session.csrfToken)
        let values: [String: Any] = [
            "voices": voicePicker, "hasVoices": !voicePicker.isEmpty,
            "title": texts["book"]!, "who": session.identity.name, "csrf": session.csrfToken, "date": book.date,
            "nextFree": book.nextFree, "health": strip,
            "reservations": book.reservations.map {
                [
                    "time": $0.time, "name": $0.name, "party_size": $0.partySize,
                    "source": texts["source." + $0.source] ?? $0.source,
                    "status": texts["status." + $0.status] ?? $0.status,
                ] as [String: Any]
            },
            "busySlots": book.slots.filter { $0.covers > 0 }.map {
                ["time": $0.time, "covers": $0.covers, "seats": $0.seats] as [String: Any]
            },
            "messages": messages.map {
                [
                    "id": $0.id, "message": $0.message, "callback_phone": $0.callbackPhone ?? "",
                    "csrf": session.csrfToken,
                ]
                    as [String: Any]
            },
            "calls": calls.map { call in
                [
                    "id": call.id, "from": call.from, "outcome": call.outcome ?? call.status,
                    "when": Self.localTime(call.startedAt, zone: zone, language: language),
                    "duration": call.durationSeconds.map { "\($0) s" } ?? "",
                ] as [String: Any]
            },
            "menu": menu.map { item in
                [
                    "id": item.id, "name": item.name, "csrf": session.csrfToken, "next": item.available ? "0" : "1",
                    "state": item.available ? texts["on"]! : texts["off"]!,
                    "action": item.available ? texts["switchOff"]! : texts["switchOn"]!,
                    "buttonClass": item.available ? "on" : "off",
                ] as [String: Any]
            },
        ]
        return html("book", values, request: request)
    }

    func callPage(_ request: Request, context: AgentRequestContext) async throws -> Response {
        do {
            try access.checkNetwork(context)
        } catch let error as APIError {
            return problem(error, request: request)
        }
        guard let session = try await session(request, context: context) else { return Self.redirect("/") }
        let texts = StaffPageText.texts[Self.language(request)] ?? StaffPageText.texts["en"]!
        let id = try context.parameters.require("id")
        guard let call = try await queries.call(id: id, reader: "staff:\(session.identity.name)") else {
            return problem(APIError(.notFound, code: "not_found", message: "no call \(id)"), request: request)
        }
        let values: [String: Any] = [
            "title": texts["call"]!,
            "when": Self.localTime(call.startedAt, zone: timeZone(), language: Self.language(request)),
            "from": call.from, "outcome": call.outcome ?? call.status,
            "language": call.language ?? "",
            "turns": call.turns.map { turn in
                [
                    "speaker": turn.speaker, "text": turn.text,
                    "who": turn.speaker == "caller" ? texts["caller"]! : texts["agent"]!,
                ]
            },
            "tools": call.toolCalls.isEmpty
                ? []
                : [
                    [
                        "list": call.toolCalls.map {
                            ["tool": $0.tool, "status": $0.status, "duration_ms": $0.durationMs]
                        }
                    ]
                ],
        ]
        return html("call", values, request: request)
    }

    /// An ISO 8601 instant as the restaurant's clock reads it, `Dec 6 19:30`, in the page's language.
    static func localTime(_ instant: String, zone: TimeZone, language: String) -> String {
        guard let date = ISO8601DateFormatter().date(from: instant) else { return instant }
        let format = DateFormatter()
        format.timeZone = zone
        format.locale = Locale(identifier: language)
        format.setLocalizedDateFormatFromTemplate("MMMdHHmm")
        return format.string(from: date)
    }

    // MARK: - Forms

    /// A form body, 16 KiB at most.
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 16 * 1024)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "the form is too large")
        }
        var fields: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            guard let key = parts.first, !key.isEmpty else { continue }
            fields[key] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }

    func logIn(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let title = StaffPageText.title(request, "login")
        do {
            try access.checkNetwork(context)
            try access.checkSameOrigin(request)
            try access.beginAttempt(context)
            let form = try await Self.form(request)
            let identity: AdminIdentity?
            if let token = form["token"], !token.isEmpty {
                identity = try await access.identity(token: token)
            } else if let name = form["name"], let pin = form["pin"], !name.isEmpty, !pin.isEmpty {
                identity = try await access.tokens.authenticate(name: name, pin: pin)
            } else {
                identity = nil
            }
            guard let identity else { throw access.refuse(context, reason: "wrong token, or wrong name or PIN") }
            access.attemptSucceeded(context)
            if let old = request.cookies[AdminAccess.cookieName]?.value { access.sessions.end(cookie: old) }
            let (cookie, _) = access.sessions.start(identity)
            var response = Self.redirect("/")
            response.setCookie(AdminAPIRoutes.sessionCookie(cookie, request: request, context: context))
            context.logger.info("staff page login", metadata: ["admin.name": .string(identity.name)])
            return response
        } catch let error as APIError where error.status == .unauthorized || error.status == .tooManyRequests {
            let texts = StaffPageText.texts[Self.language(request)] ?? StaffPageText.texts["en"]!
            let message = error.status == .tooManyRequests ? error.message : texts["wrongLogin"]!
            return html("login", ["title": title, "error": message], request: request, status: error.status)
        } catch let error as APIError {
            return problem(error, request: request)
        }
    }

    /// Runs a change posted by a form of the page: the session, then its CSRF token, then `body`;
    /// then back to the page.
    func change(
        _ request: Request, context: AgentRequestContext,
        _ body: ([String: String], AgentRequestContext) async throws -> Void
    ) async throws -> Response {
        do {
            try access.checkNetwork(context)
            try access.checkSameOrigin(request)
            guard let session = try await session(request, context: context) else {
                throw APIError(.unauthorized, code: "session_expired", message: "the session has ended; log in again")
            }
            let form = try await Self.form(request)
            guard let sent = form["csrf_token"], AdminAccess.constantTimeEqual(sent, session.csrfToken) else {
                throw APIError(
                    .forbidden, code: "csrf", message: "the form is stale or forged; reload the page and try again")
            }
            var context = context
            context.admin = session.identity
            context.adminSession = session
            try await body(form, context)
            return Self.redirect("/")
        } catch let error as APIError where error.status == .unauthorized {
            return Self.redirect("/")
        } catch let error as APIError {
            return problem(error, request: request)
        }
    }
}

/// The staff page's words, in English and Spanish.
enum StaffPageText {
    static func title(_ request: Request, _ key: String) -> String {
        texts[StaffPage.language(request)]?[key] ?? key
    }

    static let texts: [String: [String: String]] = [
        "en": [
            "lang": "en", "login": "Log in", "token": "Token", "or": "or", "name": "Name", "pin": "PIN",
            "logout": "Log out", "sections": "Sections", "book": "Today's book", "messages": "Messages",
            "calls": "Recent calls", "menu": "Menu", "health": "Health", "nextFree": "Next free times",
            "none": "none", "time": "Time", "party": "Party", "source": "Source", "status": "Status",
            "noReservations": "No reservations yet.", "covers": "Covers", "seats": "Seats",
            "noCovers": "No one booked yet.", "handled": "Mark handled", "noMessages": "Nothing to handle.",
            "when": "When", "caller": "Caller", "agent": "Agent", "outcome": "Outcome", "length": "Length",
            "noCalls": "No calls yet.", "item": "Item", "available": "Offered tonight", "on": "On", "off": "Off",
            "switchOff": "take off tonight's menu", "switchOn": "offer again", "call": "Call", "back": "Back",
            "language": "Language", "tools": "What the agent did", "problem": "That did not work",
            "wrongLogin": "Wrong token, or wrong name or PIN.", "sync": "sync backlog", "cache": "phrase cache",
            "disk": "disk free", "up": "up", "degraded": "degraded", "down": "down",
            "source.phone_agent": "phone", "source.keypad": "keypad", "source.staff": "staff",
            "source.headquarters": "headquarters", "source.offline_voice": "phone (offline)",
            "status.confirmed": "confirmed", "status.cancelled": "cancelled", "status.seated": "seated",
            "status.completed": "completed", "status.no_show": "no-show",
            "voice": "Voice", "voiceInUse": "in use:", "voiceWarming": "getting ready:",
            "voiceFailed": "the last choice could not be prepared", "useVoice": "Use this voice",
            "voiceLanguage.en": "English voice", "voiceLanguage.es": "Spanish voice",
        ],
        "es": [
            "lang": "es", "login": "Entrar", "token": "Token", "or": "o", "name": "Nombre", "pin": "PIN",
            "logout": "Salir", "sections": "Secciones", "book": "Reservas de hoy", "messages": "Mensajes",
            "calls": "Llamadas recientes", "menu": "Carta", "health": "Estado", "nextFree": "Próximas horas libres",
            "none": "ninguna", "time": "Hora", "party": "Personas", "source": "Origen", "status": "Estado",
            "noReservations": "Todavía no hay reservas.", "covers": "Cubiertos", "seats": "Plazas",
            "noCovers": "Nadie ha reservado todavía.", "handled": "Marcar atendido", "noMessages": "Nada pendiente.",
            "when": "Cuándo", "caller": "Cliente", "agent": "Agente", "outcome": "Resultado", "length": "Duración",
            "noCalls": "Todavía no hay llamadas.", "item": "Plato", "available": "Se ofrece hoy", "on": "Sí",
            "off": "No", "switchOff": "quitar de la carta de hoy", "switchOn": "volver a ofrecer", "call": "Llamada",
            "back": "Volver", "language": "Idioma", "tools": "Lo que hizo el agente", "problem": "No se pudo hacer",
            "wrongLogin": "Token, nombre o PIN incorrectos.", "sync": "pendiente de sincronizar",
            "cache": "frases en caché", "disk": "disco libre", "up": "bien", "degraded": "limitado", "down": "caído",
            "source.phone_agent": "teléfono", "source.keypad": "teclado", "source.staff": "personal",
            "source.headquarters": "central", "source.offline_voice": "teléfono (sin conexión)",
            "status.confirmed": "confirmada", "status.cancelled": "cancelada", "status.seated": "sentados",
            "status.completed": "terminada", "status.no_show": "no vino",
            "voice": "Voz", "voiceInUse": "en uso:", "voiceWarming": "preparándose:",
            "voiceFailed": "la última elección no se pudo preparar", "useVoice": "Usar esta voz",
            "voiceLanguage.en": "Voz en inglés", "voiceLanguage.es": "Voz en español",
        ],
    ]
}
