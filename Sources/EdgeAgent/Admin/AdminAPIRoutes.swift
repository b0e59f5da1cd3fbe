import Foundation
import GRDB
public import Hummingbird
import LocalStore
import NIOCore
import Sync

/// `/api/v1`: the staff's and technicians' API on the agent's server, described by
/// `Resources/admin-openapi.json` (served at `/api/v1/openapi.json`). Every route is registered from
/// ``routes``, which a test holds against the document, so the two cannot drift apart unseen.
public struct AdminAPIRoutes: Sendable {
    /// Who may call a route.
    public enum Audience: Sendable {
        /// Anyone on an allowed network (the document, logging in).
        case anyone
        /// Staff and technicians.
        case staff
        /// Technicians only.
        case technician
    }

    /// One route: its method, its path as the document writes it, and who may call it.
    public struct Route: Sendable {
        public let method: HTTPRequest.Method
        public let path: String
        public let audience: Audience
        let handle: @Sendable (AdminAPIRoutes, Request, AgentRequestContext) async throws -> Response
    }

    /// The largest body a request may send.
    static let maximumBody = 64 * 1024

    let app: EdgeAgentApp
    let access: AdminAccess

    public init(app: EdgeAgentApp, access: AdminAccess) {
        self.app = app
        self.access = access
    }

    var timeZone: TimeZone { app.policies.current.timeZone }
    var book: ReservationBook { ReservationBook(database: app.database, policies: app.policies) }
    var queries: AdminQueries { AdminQueries(app: app) }

    /// Every route of `/api/v1`.
    public static let routes: [Route] = [
        Route(method: .get, path: "/api/v1/openapi.json", audience: .anyone) { api, _, _ in try api.document() },
        Route(method: .post, path: "/api/v1/session", audience: .anyone) { api, request, context in
            try await api.logIn(request, context: context)
        },
        Route(method: .delete, path: "/api/v1/session", audience: .staff) { api, request, context in
            api.logOut(request, context: context)
        },
        Route(method: .get, path: "/api/v1/me", audience: .staff) { _, _, context in
            try json(AdminJSON.Me(name: context.admin!.name, role: context.admin!.role.rawValue))
        },
        Route(method: .get, path: "/api/v1/reservations", audience: .staff) { api, request, context in
            try await api.reservations(request, context: context)
        },
        Route(method: .post, path: "/api/v1/reservations", audience: .staff) { api, request, context in
            try await api.createReservation(request, context: context)
        },
        Route(method: .patch, path: "/api/v1/reservations/{id}", audience: .staff) { api, request, context in
            try await api.changeReservation(request, context: context)
        },
        Route(method: .post, path: "/api/v1/reservations/{id}/cancel", audience: .staff) { api, request, context in
            try await api.cancelReservation(request, context: context)
        },
        Route(method: .get, path: "/api/v1/book", audience: .staff) { api, request, context in
            try await api.dayBook(request, context: context)
        },
        Route(method: .get, path: "/api/v1/calls", audience: .staff) { api, request, _ in
            try await api.calls(request)
        },
        Route(method: .get, path: "/api/v1/calls/{id}", audience: .staff) { api, _, context in
            try await api.call(context: context)
        },
        Route(method: .get, path: "/api/v1/messages", audience: .staff) { api, request, context in
            try await api.messages(request, context: context)
        },
        Route(method: .post, path: "/api/v1/messages/{id}/handled", audience: .staff) { api, _, context in
            try await api.markHandled(context: context)
        },
        Route(method: .get, path: "/api/v1/menu", audience: .staff) { api, request, _ in
            try await api.menu(request)
        },
        Route(method: .patch, path: "/api/v1/menu/{id}", audience: .staff) { api, request, context in
            try await api.setAvailability(request, context: context)
        },
        Route(method: .get, path: "/api/v1/voices", audience: .staff) { api, _, _ in try await api.voices() },
        Route(method: .put, path: "/api/v1/voices", audience: .staff) { api, request, context in
            try await api.chooseVoice(request, context: context)
        },
        Route(method: .get, path: "/api/v1/health", audience: .staff) { api, _, _ in try await api.health() },
        Route(method: .get, path: "/api/v1/configuration", audience: .technician) { api, _, _ in
            try api.configurationSettings()
        },
        Route(method: .get, path: "/api/v1/audit", audience: .technician) { api, request, _ in
            try await api.audit(request)
        },
        Route(method: .post, path: "/api/v1/customers/export", audience: .technician) { api, request, context in
            try await api.exportCustomer(request, context: context)
        },
        Route(method: .post, path: "/api/v1/customers/erase", audience: .technician) { api, request, context in
            try await api.eraseCustomer(request, context: context)
        },
    ]

    /// Registers every route on `router`, each behind ``AdminAccess``.
    public func register(on router: Router<AgentRequestContext>) {
        for route in Self.routes {
            let path = RouterPath(route.path.replacingOccurrences(of: "{id}", with: ":id"))
            router.on(path, method: route.method) { request, context -> Response in
                var context = context
                switch route.audience {
                case .anyone:
                    try access.checkNetwork(context)
                case .staff, .technician:
                    try await access.authenticate(request, context: &context)
                    if route.audience == .technician, context.admin?.role != .technician {
                        throw APIError(
                            .forbidden, code: "technician_only", message: "only a technician's token may do this")
                    }
                }
                return try await route.handle(self, request, context)
            }
        }
    }

    // MARK: - Helpers

    /// A JSON response.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try AdminJSON.encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The request's JSON body as `type`: 413 past ``maximumBody``, 400 when it does not decode.
    static func body<Body: Decodable>(_ type: Body.Type, of request: Request) async throws -> Body {
        // Only JSON: a page elsewhere cannot post a plain form or text/plain body at the API.
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type", message: "send Content-Type: application/json")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maximumBody)
        } catch is NIOTooManyBytesError {
            throw APIError(
                .contentTooLarge, code: "body_too_large", message: "the body is larger than \(maximumBody) bytes")
        }
        do {
            return try AdminJSON.decoder.decode(type, from: Data(buffer: buffer))
        } catch DecodingError.keyNotFound(let key, _) {
            throw APIError.badRequest("the body needs \(key.stringValue.snakeCased)")
        } catch DecodingError.typeMismatch(_, let context) {
            throw APIError.badRequest(
                "\(context.codingPath.map(\.stringValue.snakeCased).joined(separator: ".")) has the wrong type")
        } catch {
            throw APIError.badRequest("the body is not the JSON this route takes")
        }
    }

    static func date(_ text: String?, field: String) throws -> LocalDate? {
        guard let text else { return nil }
        guard let date = LocalDate(text) else { throw APIError.badRequest("\(field) must be a date YYYY-MM-DD") }
        return date
    }

    static func time(_ text: String?, field: String) throws -> LocalTime? {
        guard let text else { return nil }
        guard let time = LocalTime(text), time.minutesSinceMidnight < 1440 else {
            throw APIError.badRequest("\(field) must be a time of day HH:MM (24 h)")
        }
        return time
    }

    /// The audit log's actor for a person: their token's name.
    static func actor(_ context: AgentRequestContext) -> String {
        "staff:\(context.admin?.name ?? "unknown")"
    }

    /// A reservation error as a 409 (the availability rules) or 404, with its safe message.
    static func answer(_ error: ReservationError) -> APIError {
        switch error.code {
        case .notFound: APIError(.notFound, code: "not_found", message: error.message)
        case .invalidName, .invalidPhone:
            APIError(.unprocessableContent, code: error.code.description, message: error.message)
        default: APIError(.conflict, code: error.code.description, message: error.message)
        }
    }

    // MARK: - The document and the session

    func document() throws -> Response {
        guard let url = Bundle.module.url(forResource: "admin-openapi", withExtension: "json"),
            let data = FileManager.default.contents(atPath: url.path)
        else {
            throw APIError(.internalServerError, code: "missing_document", message: "admin-openapi.json is missing")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func logIn(_ request: Request, context: AgentRequestContext) async throws -> Response {
        try access.beginAttempt(context)
        let login = try await Self.body(AdminJSON.Login.self, of: request)
        let identity: AdminIdentity?
        if let token = login.token, !token.isEmpty {
            identity = try await access.identity(token: token)
        } else if let name = login.name, let pin = login.pin {
            identity = try await access.tokens.authenticate(name: name, pin: pin)
        } else {
            throw APIError.badRequest("send a token, or a name and PIN")
        }
        guard let identity else { throw access.refuse(context, reason: "wrong token, or wrong name or PIN") }
        access.attemptSucceeded(context)
        // A new login replaces the session the browser held.
        if let old = request.cookies[AdminAccess.cookieName]?.value { access.sessions.end(cookie: old) }
        let (cookie, session) = access.sessions.start(identity)
        var response = try Self.json(
            AdminJSON.Session(name: identity.name, role: identity.role.rawValue, csrfToken: session.csrfToken),
            status: .created)
        response.setCookie(Self.sessionCookie(cookie, request: request, context: context))
        context.logger.info("admin login", metadata: ["admin.name": .string(identity.name)])
        return response
    }

    /// HttpOnly, SameSite=Strict, the whole site, and Secure when the request came over TLS (through a
    /// proxy that says so with `X-Forwarded-Proto: https`); on the LAN's plain HTTP it could not be.
    static func sessionCookie(_ value: String, request: Request, context: AgentRequestContext) -> Cookie {
        let secure = request.headers[.init("X-Forwarded-Proto")!] == "https" || request.uri.scheme == .https
        return Cookie(
            name: AdminAccess.cookieName, value: value, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    func logOut(_ request: Request, context: AgentRequestContext) -> Response {
        if let cookie = request.cookies[AdminAccess.cookieName]?.value { access.sessions.end(cookie: cookie) }
        var response = Response(status: .noContent)
        response.setCookie(
            Cookie(name: AdminAccess.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    // MARK: - Reservations

    func reservations(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let date =
            try Self.date(query["date"].map(String.init), field: "date") ?? LocalDate(app.clock.now(), in: timeZone)
        var status: Reservation.Status?
        if let text = query["status"] {
            guard let parsed = Reservation.Status(rawValue: String(text)) else {
                throw APIError.badRequest("status must be one of confirmed, cancelled, seated, completed, no_show")
            }
            status = parsed
        }
        return try Self.json(try await queries.reservations(on: date, status: status, reader: Self.actor(context)))
    }

    func createReservation(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let body = try await Self.body(AdminJSON.NewReservation.self, of: request)
        guard let date = try Self.date(body.date, field: "date"), let time = try Self.time(body.time, field: "time")
        else { throw APIError.badRequest("date and time are required") }
        guard body.partySize >= 1 else { throw APIError.badRequest("party_size must be at least 1") }
        var phone: String?
        if let raw = body.phone, !raw.isEmpty {
            guard let e164 = PhoneNumber.e164(raw) else {
                throw APIError(
                    .unprocessableContent, code: "invalid_phone", message: "phone must be a number like +15551234567")
            }
            phone = e164
        }
        do {
            let reservation = try await book.create(
                .init(
                    name: body.name, phone: phone, partySize: body.partySize, date: date, time: time, notes: body.notes,
                    source: .staff),
                actor: Self.actor(context))
            return try Self.json(AdminJSON.ReservationBody(reservation, timeZone: timeZone), status: .created)
        } catch let error as ReservationError {
            throw Self.answer(error)
        }
    }

    func changeReservation(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await Self.body(AdminJSON.ReservationChange.self, of: request)
        if let size = body.partySize, size < 1 { throw APIError.badRequest("party_size must be at least 1") }
        let changes = ReservationBook.Changes(
            date: try Self.date(body.date, field: "date"), time: try Self.time(body.time, field: "time"),
            partySize: body.partySize, notes: body.notes)
        do {
            let reservation = try await book.update(id: id, changes, actor: Self.actor(context))
            return try Self.json(AdminJSON.ReservationBody(reservation, timeZone: timeZone))
        } catch let error as ReservationError {
            throw Self.answer(error)
        }
    }

    func cancelReservation(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        do {
            let reservation = try await book.cancel(id: id, actor: Self.actor(context))
            return try Self.json(AdminJSON.ReservationBody(reservation, timeZone: timeZone))
        } catch let error as ReservationError {
            throw Self.answer(error)
        }
    }

    func dayBook(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let date = try Self.date(request.uri.queryParameters["date"].map(String.init), field: "date")
        return try Self.json(try await queries.book(on: date, reader: Self.actor(context)))
    }

    // MARK: - Calls and messages

    func calls(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = min(200, max(1, query["limit"].flatMap { Int(String($0)) } ?? 50))
        let before = query["before"].flatMap { Int64(String($0)) }
        return try Self.json(try await queries.calls(limit: limit, before: before))
    }

    func call(context: AgentRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let call = try await queries.call(id: id, reader: Self.actor(context)) else {
            throw APIError(.notFound, code: "not_found", message: "no call \(id)")
        }
        return try Self.json(call)
    }

    func messages(_ request: Request, context: AgentRequestContext) async throws -> Response {
        var status: StaffMessage.Status?
        if let text = request.uri.queryParameters["status"] {
            guard let parsed = StaffMessage.Status(rawValue: String(text)) else {
                throw APIError.badRequest("status must be one of new, read, done")
            }
            status = parsed
        }
        return try Self.json(try await queries.messages(status: status, reader: Self.actor(context)))
    }

    func markHandled(context: AgentRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let message = try await queries.markHandled(id: id, actor: Self.actor(context)) else {
            throw APIError(.notFound, code: "not_found", message: "no message \(id)")
        }
        return try Self.json(message)
    }

    // MARK: - Menu

    func menu(_ request: Request) async throws -> Response {
        let language = request.uri.queryParameters["language"].map(String.init) ?? "en"
        guard ["en", "es"].contains(language) else { throw APIError.badRequest("language must be en or es") }
        return try Self.json(try await queries.menu(language: language))
    }

    func setAvailability(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await Self.body(AdminJSON.Availability.self, of: request)
        guard let item = try await queries.setAvailable(id: id, available: body.available, actor: Self.actor(context))
        else { throw APIError(.notFound, code: "not_found", message: "no menu item \(id)") }
        return try Self.json(item)
    }

    // MARK: - Health and configuration

    func health() async throws -> Response {
        try Self.json(try await queries.health())
    }

    func configurationSettings() throws -> Response {
        try Self.json(
            AdminJSON.Configuration(
                settings: AgentConfiguration.settings.map {
                    AdminJSON.Setting(key: $0.key, value: $0.render(app.configuration), environment: $0.environment)
                }))
    }

    func audit(_ request: Request) async throws -> Response {
        let limit = min(1000, max(1, request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 100))
        let rows = try await app.database.read { db in try AuditLog.recent(limit: limit, in: db) }
        return try Self.json(
            rows.map {
                AdminJSON.AuditRow(
                    at: AdminJSON.instant($0.at), actor: $0.actor, action: $0.action, entity: $0.entity,
                    entityId: $0.entityID)
            })
    }

    // MARK: - Privacy requests

    static func phone(_ request: Request) async throws -> String {
        let body = try await body(AdminJSON.PhoneRequest.self, of: request)
        guard let phone = PhoneNumber.e164(body.phone) else {
            throw APIError(
                .unprocessableContent, code: "invalid_phone", message: "phone must be a number like +15551234567")
        }
        return phone
    }

    func exportCustomer(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let phone = try await Self.phone(request)
        let export = try await PrivacyRequests(database: app.database).export(phone: phone, actor: Self.actor(context))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(export))))
    }

    func eraseCustomer(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let phone = try await Self.phone(request)
        let report = try await app.eraseCustomer(phone: phone, actor: Self.actor(context))
        return try Self.json(
            AdminJSON.Erasure(
                customers: report.customers, reservations: report.reservations, calls: report.calls,
                turns: report.turns,
                recordings: report.recordings, messages: report.messages))
    }
}

extension String {
    /// `partySize` as `party_size`, for error messages that name a body's field.
    fileprivate var snakeCased: String {
        reduce(into: "") { result, character in
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
    }
}

extension AdminAPIRoutes {
    /// A language's voices for staff: the one in use, the one being warmed, and the choices.
    struct VoiceLanguage: Encodable {
        let language: String
        let active: String?
        let pending: String?
        let failure: String?
        let voices: [VoiceChoice]
    }

    func voices() async throws -> Response {
        var languages: [VoiceLanguage] = []
        for language in PhraseBook.languages {
            let status = await app.voices.status(of: language)
            languages.append(
                VoiceLanguage(
                    language: language, active: status.active, pending: status.pending, failure: status.failure,
                    voices: await app.voices.voices(for: language)))
        }
        return try Self.json(["languages": languages])
    }

    struct VoiceChoiceBody: Decodable {
        let language: String
        let voice: String
    }

    /// Chooses a language's voice: 202 while it is warmed, 200 when it is already in use.
    func chooseVoice(_ request: Request, context: AgentRequestContext) async throws -> Response {
        let body = try await Self.body(VoiceChoiceBody.self, of: request)
        guard PhraseBook.languages.contains(body.language) else {
            throw APIError(.unprocessableContent, code: "unknown_language", message: "language must be en or es")
        }
        let status: VoiceSwitcher.Status
        do {
            status = try await app.voices.choose(body.voice, for: body.language, actor: Self.actor(context))
        } catch let error as VoiceSwitcher.UnknownVoice {
            throw APIError(.unprocessableContent, code: "unknown_voice", message: error.description)
        }
        let language = VoiceLanguage(
            language: body.language, active: status.active, pending: status.pending, failure: status.failure,
            voices: await app.voices.voices(for: body.language))
        return try Self.json(language, status: status.pending == nil ? .ok : .accepted)
    }
}
