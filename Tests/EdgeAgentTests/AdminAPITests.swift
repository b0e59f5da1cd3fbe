import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LocalStore
import NIOConcurrencyHelpers
import NIOCore
import StoreTestSupport
import Sync
import TestSupport
import Testing

@testable import EdgeAgent

/// `/api/v1` through the running agent on loopback: who may do what, each endpoint's effect on the
/// database, and each bad request refused with the right 4xx and nothing changed. Every response of
/// every test is then held against the OpenAPI document (`Resources/admin-openapi.json`) by Debian's
/// python3-jsonschema: its route, its status and its body's schema.
@Suite("The admin API", .serialized)
struct AdminAPITests {
    /// The tokens a test uses.
    struct Tokens {
        var staff: String
        var technician: String
        var revoked: String
    }

    final class ResponseLog: Sendable {
        struct Entry: Codable {
            var method: String
            var path: String
            var status: Int
            var body: String
        }

        private let entries = NIOLockedValueBox<[Entry]>([])
        func add(_ entry: Entry) { entries.withLockedValue { $0.append(entry) } }
        var all: [Entry] { entries.withLockedValue { $0 } }
    }

    /// A client that speaks JSON to the API and keeps what it saw.
    struct API {
        let client: any TestClientProtocol
        let log: ResponseLog
        var cookie: String?
        var csrf: String?

        /// `template` is the route as the document writes it, for the document check.
        @discardableResult
        func call(
            _ method: HTTPRequest.Method, _ uri: String, template: String? = nil, token: String? = nil,
            json: String? = nil, headers extra: HTTPFields = [:]
        ) async throws -> (status: Int, body: String, headers: HTTPFields) {
            var headers = extra
            if let token { headers[.authorization] = "Bearer \(token)" }
            if let cookie { headers[.cookie] = "\(AdminAccess.cookieName)=\(cookie)" }
            if let csrf, headers[.init("X-CSRF-Token")!] == nil { headers[.init("X-CSRF-Token")!] = csrf }
            if json != nil { headers[.contentType] = "application/json" }
            let response = try await client.execute(
                uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
            let body = String(buffer: response.body)
            let path = template ?? String(uri.split(separator: "?").first ?? "")
            log.add(
                .init(method: method.rawValue.lowercased(), path: path, status: Int(response.status.code), body: body))
            return (Int(response.status.code), body, response.headers)
        }
    }

    static func object(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
    }

    static func array(_ body: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]], "\(body)")
    }

    static func errorCode(_ body: String) throws -> String? {
        (try object(body)["error"] as? [String: Any])?["code"] as? String
    }

    /// The agent on a loopback port with a staff token, a technician token and a revoked one.
    static func withAgent(
        configure: (inout AgentConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (EdgeAgentApp, API, Tokens) async throws -> Void
    ) async throws {
        let folder = TemporaryFolder()
        let logs = LogCapture()
        var configuration = testConfiguration(folder: folder)
        configuration.restaurant.name = "Trattoria Roma"
        configure(&configuration)
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: logs.logger)
        let store = AdminTokens(database: app.database)
        let staff = try await store.add(name: "Maria", role: .staff, actor: "test").token
        let technician = try await store.add(name: "Tech Tom", role: .technician, actor: "test").token
        let revoked = try await store.add(name: "Former", role: .staff, actor: "test").token
        try await store.revoke(name: "Former", actor: "test")
        let tokens = Tokens(staff: staff, technician: technician, revoked: revoked)
        let log = ResponseLog()
        do {
            try await app.makeApplication(router: app.makeRouter()).test(.live) { client in
                try await body(app, API(client: client, log: log), tokens)
            }
        } catch {
            await app.shutdown()
            throw error
        }
        try await AdminOpenAPIDocument.check(log.all)
        // Nothing a test did leaked a token into the log.
        for line in logs.all {
            #expect(!line.contains(staff) && !line.contains(technician) && !line.contains(revoked))
        }
        await app.shutdown()
    }

    /// Admin requests allowed only from a network the tests' loopback is not in.
    static func onlyOtherNetwork(_ configuration: inout AgentConfiguration) {
        configuration.adminAllowedNetworks = NetworkAllowList(networks: [NetworkAllowList.Network("10.9.9.0/24")!])
    }

    static func count(_ app: EdgeAgentApp, _ sql: String, _ arguments: StatementArguments = []) async throws -> Int {
        try await app.database.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? -1 }
    }

    /// Tomorrow in the restaurant's time zone, a day it is open (the default hours close Mondays).
    static func openDay(_ app: EdgeAgentApp) -> LocalDate {
        let zone = app.policies.current.timeZone
        var day = LocalDate(Date().addingTimeInterval(86_400), in: zone)
        while app.policies.current.periods(on: day).isEmpty { day = day.adding(days: 1) }
        return day
    }

    @Test("a staff token reads who it is; no token, a wrong one and a revoked one are 401 without a trace of the token")
    func bearerTokens() async throws {
        try await Self.withAgent { _, api, tokens in
            let me = try await api.call(.get, "/api/v1/me", token: tokens.staff)
            #expect(me.status == 200)
            #expect(try Self.object(me.body) as NSDictionary == ["name": "Maria", "role": "staff"])
            let technician = try await api.call(.get, "/api/v1/me", token: tokens.technician)
            #expect(try Self.object(technician.body)["role"] as? String == "technician")

            let none = try await api.call(.get, "/api/v1/me")
            #expect(none.status == 401)
            #expect(try Self.errorCode(none.body) == "unauthorized")
            let wrong = try await api.call(.get, "/api/v1/me", token: "eat_not-a-token")
            #expect(wrong.status == 401)
            #expect(!wrong.body.contains("eat_not-a-token"))
            let revoked = try await api.call(.get, "/api/v1/me", token: tokens.revoked)
            #expect(revoked.status == 401)
        }
    }

    @Test("admin.token from the configuration is a technician's token")
    func configuredToken() async throws {
        let configure: (inout AgentConfiguration) -> Void = { $0.adminToken = Secret("configured-admin-token-1") }
        try await Self.withAgent(configure: configure) { _, api, _ in
            let me = try await api.call(.get, "/api/v1/me", token: "configured-admin-token-1")
            #expect(me.status == 200)
            #expect(try Self.object(me.body) as NSDictionary == ["name": "admin.token", "role": "technician"])
        }
    }

    @Test("a request from outside admin.allowed_networks is a 403, with a right token too")
    func outsideNetworks() async throws {
        try await Self.withAgent(configure: AdminAPITests.onlyOtherNetwork) { _, api, tokens in
            let refused = try await api.call(.get, "/api/v1/me", token: tokens.technician)
            #expect(refused.status == 403)
            #expect(try Self.errorCode(refused.body) == "network_not_allowed")
            let login = try await api.call(.post, "/api/v1/session", json: #"{"token":"\#(tokens.staff)"}"#)
            #expect(login.status == 403)
            #expect(login.headers[.setCookie] == nil)
        }
    }

    @Test(
        "reservations: staff book, change and cancel with the phone's rules, each synced and audited with the person's name; a full slot is a 409 that changes nothing"
    )
    func reservations() async throws {
        let configure: (inout AgentConfiguration) -> Void = { $0.reservations.seatsPerSlot = 6 }
        try await Self.withAgent(configure: configure) { app, api, tokens in
            let day = Self.openDay(app).description
            let created = try await api.call(
                .post, "/api/v1/reservations", token: tokens.staff,
                json:
                    #"{"name":"Ana Ruiz","party_size":4,"date":"\#(day)","time":"19:30","phone":"+15550102030","notes":"window"}"#
            )
            #expect(created.status == 201, "\(created.body)")
            let booking = try Self.object(created.body)
            #expect(booking["source"] as? String == "staff")
            #expect(booking["party_size"] as? Int == 4 && booking["time"] as? String == "19:30")
            let id = try #require(booking["id"] as? String)
            #expect(try await Self.count(app, "SELECT count(*) FROM reservations") == 1)
            #expect(
                try await Self.count(
                    app, "SELECT count(*) FROM outbox WHERE table_name = 'reservations' AND row_id = ?", [id])
                    == 1)
            #expect(
                try await Self.count(
                    app,
                    "SELECT count(*) FROM audit_log WHERE actor = 'staff:Maria' AND action = 'reservation.create' AND entity_id = ?",
                    [id]) == 1)

            // Four more do not fit beside four in six seats: refused, nothing stored.
            let full = try await api.call(
                .post, "/api/v1/reservations", token: tokens.staff,
                json: #"{"name":"Bo Li","party_size":4,"date":"\#(day)","time":"19:30"}"#)
            #expect(full.status == 409)
            #expect(try Self.errorCode(full.body) == "unavailable")
            #expect(try await Self.count(app, "SELECT count(*) FROM reservations") == 1)

            let changed = try await api.call(
                .patch, "/api/v1/reservations/\(id)", template: "/api/v1/reservations/{id}", token: tokens.staff,
                json: #"{"party_size":2,"time":"20:00"}"#)
            #expect(changed.status == 200, "\(changed.body)")
            #expect(try Self.object(changed.body)["time"] as? String == "20:00")
            let tooBig = try await api.call(
                .patch, "/api/v1/reservations/\(id)", template: "/api/v1/reservations/{id}", token: tokens.staff,
                json: #"{"party_size":7}"#)
            #expect(tooBig.status == 409)
            let row = try #require(
                try await ReservationBook(database: app.database, policies: app.policies).reservation(id: id))
            #expect(row.partySize == 2)

            let listed = try await api.call(.get, "/api/v1/reservations?date=\(day)", token: tokens.staff)
            #expect(try Self.array(listed.body).map { $0["id"] as? String } == [id])
            let none = try await api.call(
                .get, "/api/v1/reservations?date=\(day)&status=cancelled", token: tokens.staff)
            #expect(try Self.array(none.body).isEmpty)

            let book = try await api.call(.get, "/api/v1/book?date=\(day)", token: tokens.staff)
            let slots = try #require(try Self.object(book.body)["slots"] as? [[String: Any]])
            #expect(slots.first { $0["time"] as? String == "20:00" }?["covers"] as? Int == 2)
            #expect(slots.first { $0["time"] as? String == "20:00" }?["seats"] as? Int == 6)

            let cancelled = try await api.call(
                .post, "/api/v1/reservations/\(id)/cancel", template: "/api/v1/reservations/{id}/cancel",
                token: tokens.staff)
            #expect(cancelled.status == 200)
            #expect(try Self.object(cancelled.body)["status"] as? String == "cancelled")
            let again = try await api.call(
                .post, "/api/v1/reservations/\(id)/cancel", template: "/api/v1/reservations/{id}/cancel",
                token: tokens.staff)
            #expect(again.status == 409)
            let unknown = try await api.call(
                .post, "/api/v1/reservations/nope/cancel", template: "/api/v1/reservations/{id}/cancel",
                token: tokens.staff)
            #expect(unknown.status == 404)
            // Reading the book is audited, with who read it.
            #expect(
                try await Self.count(
                    app, "SELECT count(*) FROM audit_log WHERE actor = 'staff:Maria' AND action = 'read.reservations'")
                    == 3)
        }
    }

    @Test("bad bodies: malformed JSON, a missing field, a bad date, an oversized body: 400 or 413, nothing stored")
    func badBodies() async throws {
        try await Self.withAgent { app, api, tokens in
            let malformed = try await api.call(.post, "/api/v1/reservations", token: tokens.staff, json: "{not json")
            #expect(malformed.status == 400)
            let missing = try await api.call(
                .post, "/api/v1/reservations", token: tokens.staff,
                json: #"{"name":"Ana","date":"2030-01-01","time":"19:00"}"#)
            #expect(missing.status == 400)
            #expect(missing.body.contains("party_size"))
            let badDate = try await api.call(
                .post, "/api/v1/reservations", token: tokens.staff,
                json: #"{"name":"Ana","party_size":2,"date":"tomorrow","time":"19:00"}"#)
            #expect(badDate.status == 400)
            let huge = try await api.call(
                .post, "/api/v1/reservations", token: tokens.staff,
                json:
                    #"{"name":"\#(String(repeating: "a", count: 70_000))","party_size":2,"date":"2030-01-01","time":"19:00"}"#
            )
            #expect(huge.status == 413)
            #expect(try Self.errorCode(huge.body) == "body_too_large")
            #expect(try await Self.count(app, "SELECT count(*) FROM reservations") == 0)
        }
    }

    @Test("calls: the list masks numbers; one call's transcript and tool calls, its read audited with the reader")
    func calls() async throws {
        try await Self.withAgent { app, api, tokens in
            let log = CallLog(database: app.database)
            let call = try await log.inbound(callSid: "CA" + String(repeating: "1", count: 32), from: "+15550109876")
            try await log.append(
                ConversationTurn(
                    id: "t1", callID: call.id, sequence: 1, speaker: .caller, text: "A table for two tonight",
                    language: "en", startedAt: 1_000, interrupted: false))
            try await log.append(
                ConversationTurn(
                    id: "t2", callID: call.id, sequence: 2, speaker: .agent, text: "Of course, at what time?",
                    language: "en", startedAt: 2_000, interrupted: false))
            try await log.record(
                ToolExecution(
                    id: "x1", callID: call.id, turnID: "t2", tool: "check_availability", arguments: "{}",
                    result: #"{"available":true}"#, status: .ok, startedAt: 1_500, durationMilliseconds: 12))

            let list = try await api.call(.get, "/api/v1/calls", token: tokens.staff)
            #expect(list.status == 200)
            let calls = try Self.array(list.body)
            #expect(calls.count == 1)
            #expect(calls.first?["from"] as? String == "•••9876")
            #expect(!list.body.contains("+15550109876"))

            let detail = try await api.call(
                .get, "/api/v1/calls/\(call.id)", template: "/api/v1/calls/{id}", token: tokens.staff)
            #expect(detail.status == 200)
            let object = try Self.object(detail.body)
            #expect(object["from"] as? String == "+15550109876")
            #expect(
                (object["turns"] as? [[String: Any]])?.map { $0["text"] as? String } == [
                    "A table for two tonight", "Of course, at what time?",
                ])
            #expect((object["tool_calls"] as? [[String: Any]])?.first?["tool"] as? String == "check_availability")
            #expect(
                try await Self.count(
                    app,
                    "SELECT count(*) FROM audit_log WHERE actor = 'staff:Maria' AND action = 'read.call' AND entity_id = ?",
                    [call.id]) == 1)
            let missing = try await api.call(
                .get, "/api/v1/calls/nope", template: "/api/v1/calls/{id}", token: tokens.staff)
            #expect(missing.status == 404)
        }
    }

    @Test("messages: listed, marked handled by name, and gone from the open ones")
    func messages() async throws {
        try await Self.withAgent { app, api, tokens in
            let message = try await StaffMessageBoard(database: app.database).leave(
                message: "Please call back about the birthday cake", callbackPhone: "+15550104444", callID: nil,
                language: "en")
            let open = try await api.call(.get, "/api/v1/messages?status=new", token: tokens.staff)
            #expect(try Self.array(open.body).map { $0["id"] as? String } == [message.id])
            let handled = try await api.call(
                .post, "/api/v1/messages/\(message.id)/handled", template: "/api/v1/messages/{id}/handled",
                token: tokens.staff)
            #expect(handled.status == 200)
            #expect(try Self.object(handled.body)["status"] as? String == "done")
            #expect(try await StaffMessageBoard(database: app.database).open().isEmpty)
            #expect(
                try await Self.count(
                    app, "SELECT count(*) FROM audit_log WHERE actor = 'staff:Maria' AND entity_id = ?",
                    [
                        message.id
                    ]) == 1)
            let bad = try await api.call(.get, "/api/v1/messages?status=lost", token: tokens.staff)
            #expect(bad.status == 400)
        }
    }

    @Test("the menu: an item switched off leaves get_menu at once, and comes back when switched on")
    func menu() async throws {
        try await Self.withAgent { app, api, tokens in
            let all = try Self.array(try await api.call(.get, "/api/v1/menu", token: tokens.staff).body)
            let item = try #require(all.first)
            let id = try #require(item["id"] as? String)
            let name = try #require(item["name"] as? String)
            #expect(all.allSatisfy { $0["available"] as? Bool == true })

            let off = try await api.call(
                .patch, "/api/v1/menu/\(id)", template: "/api/v1/menu/{id}", token: tokens.staff,
                json: #"{"available":false}"#)
            #expect(off.status == 200)
            #expect(try Self.object(off.body)["available"] as? Bool == false)
            let offered = try await MenuCatalog(database: app.database).items(language: "en")
            #expect(!offered.contains { $0.item.id == id || $0.name == name })
            #expect(offered.count == all.count - 1)

            let on = try await api.call(
                .patch, "/api/v1/menu/\(id)", template: "/api/v1/menu/{id}", token: tokens.staff,
                json: #"{"available":true}"#)
            #expect(on.status == 200)
            #expect(try await MenuCatalog(database: app.database).items(language: "en").count == all.count)
            let unknown = try await api.call(
                .patch, "/api/v1/menu/nope", template: "/api/v1/menu/{id}", token: tokens.staff,
                json: #"{"available":false}"#)
            #expect(unknown.status == 404)
        }
    }

    @Test(
        "technicians' routes: staff get 403; a technician sees configuration with secrets masked, the audit log, privacy requests"
    )
    func technicianOnly() async throws {
        try await Self.withAgent { app, api, tokens in
            for path in ["/api/v1/configuration", "/api/v1/audit"] {
                let refused = try await api.call(.get, path, token: tokens.staff)
                #expect(refused.status == 403)
                #expect(try Self.errorCode(refused.body) == "technician_only")
            }
            let erase = try await api.call(
                .post, "/api/v1/customers/erase", token: tokens.staff, json: #"{"phone":"+15550102030"}"#)
            #expect(erase.status == 403)

            let configuration = try await api.call(.get, "/api/v1/configuration", token: tokens.technician)
            #expect(configuration.status == 200)
            #expect(configuration.body.contains(#""key":"twilio.auth_token","value":"******** (set)""#))
            #expect(!configuration.body.contains(testAuthToken))

            _ = try await ReservationBook(database: app.database, policies: app.policies).create(
                .init(
                    name: "Ana Ruiz", phone: "+15550102030", partySize: 2, date: Self.openDay(app),
                    time: LocalTime("19:00")!, source: .staff),
                actor: "test")
            let export = try await api.call(
                .post, "/api/v1/customers/export", token: tokens.technician, json: #"{"phone":"+1 555 010 2030"}"#)
            #expect(export.status == 200)
            #expect(export.body.contains("Ana Ruiz"))
            let erased = try await api.call(
                .post, "/api/v1/customers/erase", token: tokens.technician, json: #"{"phone":"+15550102030"}"#)
            #expect(erased.status == 200)
            #expect(try Self.object(erased.body)["reservations"] as? Int == 1)
            #expect(try await Self.count(app, "SELECT count(*) FROM reservations") == 0)
            let badPhone = try await api.call(
                .post, "/api/v1/customers/erase", token: tokens.technician, json: #"{"phone":"call me"}"#)
            #expect(badPhone.status == 422)

            let audit = try await api.call(.get, "/api/v1/audit?limit=500", token: tokens.technician)
            let actions = try Self.array(audit.body).compactMap { $0["action"] as? String }
            #expect(actions.filter { $0 == "customer.export" || $0 == "customer.erase" }.count == 2, "\(actions)")
            let actors = try Self.array(audit.body).filter { ($0["action"] as? String)?.hasPrefix("customer.") == true }
                .compactMap { $0["actor"] as? String }
            #expect(actors == ["staff:Tech Tom", "staff:Tech Tom"], "\(actors)")
            let health = try await api.call(.get, "/api/v1/health", token: tokens.staff)
            #expect(health.status == 200)
            #expect((try Self.object(health.body)["checks"] as? [String: Any])?["database"] != nil)
        }
    }

    @Test(
        "the session cookie: HttpOnly and SameSite=Strict; a change without the CSRF token is a 403 that changes nothing; logout ends it"
    )
    func sessions() async throws {
        try await Self.withAgent { app, api, tokens in
            let login = try await api.call(.post, "/api/v1/session", json: #"{"token":"\#(tokens.staff)"}"#)
            #expect(login.status == 201)
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.hasPrefix("\(AdminAccess.cookieName)="))
            #expect(
                setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
            #expect(!setCookie.contains("Secure"))
            let cookie = String(setCookie.dropFirst(AdminAccess.cookieName.count + 1).prefix { $0 != ";" })
            let csrf = try #require(try Self.object(login.body)["csrf_token"] as? String)
            #expect(!login.body.contains(tokens.staff))

            var browser = api
            browser.cookie = cookie
            #expect(try await browser.call(.get, "/api/v1/me").status == 200)
            let item = try #require(
                try Self.array(try await browser.call(.get, "/api/v1/menu").body).first?["id"] as? String)
            let forged = try await browser.call(
                .patch, "/api/v1/menu/\(item)", template: "/api/v1/menu/{id}", json: #"{"available":false}"#)
            #expect(forged.status == 403)
            #expect(try Self.errorCode(forged.body) == "csrf")
            #expect(try await MenuCatalog(database: app.database).allItems(language: "en").allSatisfy(\.available))
            let wrongCSRF = try await browser.call(
                .patch, "/api/v1/menu/\(item)", template: "/api/v1/menu/{id}", json: #"{"available":false}"#,
                headers: [.init("X-CSRF-Token")!: "forged"])
            #expect(wrongCSRF.status == 403)

            browser.csrf = csrf
            let changed = try await browser.call(
                .patch, "/api/v1/menu/\(item)", template: "/api/v1/menu/{id}", json: #"{"available":false}"#)
            #expect(changed.status == 200)

            // A body that is not JSON is refused before it is read.
            let plain = try await browser.call(
                .patch, "/api/v1/menu/\(item)", template: "/api/v1/menu/{id}",
                headers: [.contentType: "text/plain"])
            #expect(plain.status == 415)

            #expect(try await browser.call(.delete, "/api/v1/session").status == 204)
            let ended = try await browser.call(.get, "/api/v1/me")
            #expect(ended.status == 401)
            #expect(try Self.errorCode(ended.body) == "session_expired")

            let pinLogin = try await api.call(.post, "/api/v1/session", json: #"{"name":"Maria","pin":"1234"}"#)
            #expect(pinLogin.status == 401)
            try await AdminTokens(database: app.database).setPIN(name: "Maria", pin: "1234", actor: "test")
            let withPIN = try await api.call(.post, "/api/v1/session", json: #"{"name":"Maria","pin":"1234"}"#)
            #expect(withPIN.status == 201)

            // Revoking the token ends its sessions at their next use.
            let live = try #require(withPIN.headers[.setCookie]).dropFirst(AdminAccess.cookieName.count + 1)
                .prefix { $0 != ";" }
            var maria = api
            maria.cookie = String(live)
            #expect(try await maria.call(.get, "/api/v1/me").status == 200)
            try await AdminTokens(database: app.database).revoke(name: "Maria", actor: "test")
            let revoked = try await maria.call(.get, "/api/v1/me")
            #expect(revoked.status == 401)
            #expect(try Self.errorCode(revoked.body) == "session_expired")
        }
    }

    @Test("five failed logins from an address, and the sixth try is a 429 even with the right token")
    func throttled() async throws {
        try await Self.withAgent { _, api, tokens in
            for attempt in 1...5 {
                let wrong = try await api.call(.post, "/api/v1/session", json: #"{"token":"eat_wrong-\#(attempt)"}"#)
                #expect(wrong.status == 401)
            }
            let blocked = try await api.call(.post, "/api/v1/session", json: #"{"token":"\#(tokens.staff)"}"#)
            #expect(blocked.status == 429)
            #expect(try Self.errorCode(blocked.body) == "too_many_attempts")
            #expect(blocked.headers[.setCookie] == nil)
            let bearer = try await api.call(.get, "/api/v1/me", token: tokens.staff)
            #expect(bearer.status == 429)
        }
    }
}

/// The OpenAPI document of `/api/v1`, held against the routes and the responses the tests saw.
enum AdminOpenAPIDocument {
    static var url: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/EdgeAgent/Resources/admin-openapi.json")
    }

    static let validator = """
        import json, sys
        from jsonschema import Draft202012Validator, RefResolver
        doc = json.load(open(sys.argv[1]))
        Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
        problems = []
        for e in json.load(open(sys.argv[2])):
            where = f"{e['method'].upper()} {e['path']} {e['status']}"
            operation = doc["paths"].get(e["path"], {}).get(e["method"])
            if operation is None:
                problems.append(f"{where}: the route is not in the document"); continue
            response = operation["responses"].get(str(e["status"]))
            if response is None:
                problems.append(f"{where}: the status is not in the document"); continue
            content = response.get("content")
            if content is None:
                if e["body"]: problems.append(f"{where}: a body where the document has none")
                continue
            schema = content["application/json"]["schema"]
            validator = Draft202012Validator(schema, resolver=RefResolver.from_schema(doc))
            for error in validator.iter_errors(json.loads(e["body"])):
                problems.append(f"{where}: {error.message} at {list(error.absolute_path)}")
        print("\\n".join(problems))
        sys.exit(1 if problems else 0)
        """

    /// Every response in `entries` is one the document describes, body and all.
    static func check(_ entries: [AdminAPITests.ResponseLog.Entry]) async throws {
        guard let python = await ObservabilityFilesTests.schemaValidator() else { return }
        let folder = TemporaryFolder()
        let seen = folder.file("responses.json")
        try JSONEncoder().encode(entries).write(to: URL(fileURLWithPath: seen))
        let result = try await SystemdUnitTests.run(python, ["-c", validator, url.path, seen])
        #expect(result.status == 0, "responses the document does not describe:\n\(result.output)")
    }
}

@Suite("The admin API's OpenAPI document")
struct AdminOpenAPITests {
    @Test("every route is in the document with its method, and the document has no route the server lacks")
    func routesMatch() throws {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: AdminOpenAPIDocument.url)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(
            paths.flatMap { path, operations in
                operations.keys.filter { $0 != "parameters" }.map { "\($0.uppercased()) \(path)" }
            })
        let served = Set(AdminAPIRoutes.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(
            served == documented,
            "only served: \(served.subtracting(documented)); only documented: \(documented.subtracting(served))")
    }

    @Test("GET /api/v1/openapi.json serves the document itself")
    func served() async throws {
        try await AdminAPITests.withAgent { _, api, _ in
            let response = try await api.call(.get, "/api/v1/openapi.json")
            #expect(response.status == 200)
            #expect(Data(response.body.utf8) == (try Data(contentsOf: AdminOpenAPIDocument.url)))
        }
    }
}

/// The staff page's refusals, over HTTP: each answers a readable page (or the login) and changes nothing.
@Suite("The staff page's refusals", .serialized)
struct StaffPageRefusalTests {
    typealias Admin = AdminAPITests

    @Test("a form without the session's CSRF token is a 403 page that changes nothing; with it, the change is made")
    func forgedForm() async throws {
        try await Admin.withAgent { app, api, tokens in
            let login = try await api.call(.post, "/api/v1/session", json: #"{"token":"\#(tokens.staff)"}"#)
            let cookie = try #require(login.headers[.setCookie]).dropFirst(AdminAccess.cookieName.count + 1)
                .prefix { $0 != ";" }
            let csrf = try #require(try Admin.object(login.body)["csrf_token"] as? String)
            let dish = try #require(try await MenuCatalog(database: app.database).items(language: "en").first)
            /// Posts the dish's menu form, `form` as its body, with `cookie` as the session.
            func post(_ form: String, cookie: some StringProtocol) async throws -> TestResponse {
                let headers: HTTPFields = [
                    .cookie: "\(AdminAccess.cookieName)=\(cookie)", .contentType: "application/x-www-form-urlencoded",
                ]
                return try await api.client.execute(
                    uri: "/menu/\(dish.item.id)", method: .post, headers: headers, body: ByteBuffer(string: form))
            }
            /// Whether the menu the agent reads still offers the dish.
            func isOffered() async throws -> Bool {
                try await MenuCatalog(database: app.database).items(language: "en").contains {
                    $0.item.id == dish.item.id
                }
            }

            let forged = try await post("available=0", cookie: cookie)
            #expect(forged.status == .forbidden)
            #expect(String(buffer: forged.body).contains("the form is stale or forged"))
            #expect(forged.headers[.contentType] == "text/html; charset=utf-8")
            #expect(try await isOffered())

            let made = try await post("csrf_token=\(csrf)&available=0", cookie: cookie)
            #expect(made.status == .seeOther)
            #expect(try await !isOffered())

            // Without a session a form goes back to the login, and nothing changes.
            let expired = try await post("csrf_token=\(csrf)&available=1", cookie: "expired")
            #expect(expired.status == .seeOther)
            #expect(try await !isOffered())
            let page = try await api.client.execute(
                uri: "/", method: .get, headers: [.cookie: "\(AdminAccess.cookieName)=expired"])
            #expect(String(buffer: page.body).contains(#"<form method="post" action="/login">"#))
        }
    }

    @Test("a login form of bare '=' is a wrong login, not a crash; a login posted from another site is refused")
    func oddLogins() async throws {
        try await Admin.withAgent { _, api, tokens in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            for body in ["=", "&=&", "token"] {
                let odd = try await api.client.execute(
                    uri: "/login", method: .post, headers: form, body: ByteBuffer(string: body))
                #expect(odd.status == .unauthorized, "\(body)")
                #expect(String(buffer: odd.body).contains("Wrong token, or wrong name or PIN."))
            }
            var crossSite = form
            crossSite[.origin] = "http://evil.example"
            let refused = try await api.client.execute(
                uri: "/login", method: .post, headers: crossSite, body: ByteBuffer(string: "token=\(tokens.staff)"))
            #expect(refused.status == .forbidden)
            #expect(refused.headers[.setCookie] == nil)
            var fetched = form
            fetched[.init("Sec-Fetch-Site")!] = "cross-site"
            let alsoRefused = try await api.client.execute(
                uri: "/login", method: .post, headers: fetched, body: ByteBuffer(string: "token=\(tokens.staff)"))
            #expect(alsoRefused.status == .forbidden)
            // The agent is still there.
            #expect(try await api.call(.get, "/api/v1/me", token: tokens.staff).status == 200)
        }
    }

    @Test("the page outside admin.allowed_networks is a 403 page")
    func outsideNetworks() async throws {
        try await Admin.withAgent(configure: AdminAPITests.onlyOtherNetwork) { _, api, _ in
            let page = try await api.client.execute(uri: "/", method: .get)
            #expect(page.status == .forbidden)
            #expect(String(buffer: page.body).contains("admin.allowed_networks"))
        }
    }
}

@Suite("Admin networks")
struct NetworkAllowListTests {
    @Test("CIDR ranges of IPv4 and IPv6, an IPv4-mapped address, and entries that are not networks")
    func ranges() throws {
        let lan = NetworkAllowList.lan
        for allowed in ["127.0.0.1", "10.1.2.3", "172.16.0.9", "172.31.255.255", "192.168.1.20", "::1", "fd00::5"] {
            #expect(lan.allows(try SocketAddress(ipAddress: allowed, port: 1)), "\(allowed)")
        }
        for refused in ["8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:db8::1", "11.0.0.1"] {
            #expect(!lan.allows(try SocketAddress(ipAddress: refused, port: 1)), "\(refused)")
        }
        #expect(lan.allows(try SocketAddress(ipAddress: "::ffff:192.168.1.20", port: 1)))
        #expect(!lan.allows(nil))
        guard case .success(let list) = NetworkAllowList.parse("192.168.7.0/24, 203.0.113.5") else {
            Issue.record("did not parse")
            return
        }
        #expect(list.allows(try SocketAddress(ipAddress: "203.0.113.5", port: 1)))
        #expect(!list.allows(try SocketAddress(ipAddress: "203.0.113.6", port: 1)))
        #expect(list.description == "192.168.7.0/24, 203.0.113.5/32")
        guard case .failure(let error) = NetworkAllowList.parse("10.0.0.0/8, lan") else {
            Issue.record("accepted lan")
            return
        }
        #expect(error.entry.trimmingCharacters(in: .whitespaces) == "lan")
        #expect(NetworkAllowList.Network("10.0.0.0/33") == nil)
    }

    @Test("admin.allowed_networks: a bad entry is a configuration error naming it")
    func setting() throws {
        let refused = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader().load(
                filePath: nil, environment: ["EDGE_ADMIN_ALLOWED_NETWORKS": "10.0.0.0/8,office"])
        }
        #expect(
            refused?.description.contains("'office' is not an address or a network") == true,
            "\(String(describing: refused))")
        let loaded = try ConfigurationLoader().load(
            filePath: nil, environment: ["EDGE_ADMIN_ALLOWED_NETWORKS": "192.168.5.0/24"])
        #expect(loaded.configuration.adminAllowedNetworks.description == "192.168.5.0/24")
    }
}

@Suite("Login throttle")
struct LoginThrottleTests {
    @Test("attempts are counted as they begin, so requests sent at once cannot all pass; a success is taken back")
    func attempts() {
        let throttle = LoginThrottle(limit: 5, window: .seconds(300), now: { ContinuousClock.now })
        // Five begun together, none finished yet: the sixth is refused.
        for _ in 1...5 { #expect(throttle.begin("10.0.0.7") == nil) }
        #expect(throttle.begin("10.0.0.7") != nil)
        // Successes do not add up.
        for _ in 1...20 {
            #expect(throttle.begin("10.0.0.8") == nil)
            throttle.forgive("10.0.0.8")
        }
        #expect(throttle.retryAfter("10.0.0.8") == nil)
    }

    @Test("five failures in the window refuse the address until the oldest leaves it; other addresses are not touched")
    func window() {
        let start = ContinuousClock.now
        let now = NIOLockedValueBox(start)
        let throttle = LoginThrottle(limit: 5, window: .seconds(300), now: { now.withLockedValue { $0 } })
        for _ in 1...4 { throttle.recordFailure("10.0.0.5") }
        #expect(throttle.retryAfter("10.0.0.5") == nil)
        now.withLockedValue { $0 = start + .seconds(10) }
        throttle.recordFailure("10.0.0.5")
        #expect(throttle.retryAfter("10.0.0.5") == .seconds(290))
        #expect(throttle.retryAfter("10.0.0.6") == nil)
        now.withLockedValue { $0 = start + .seconds(300) }
        #expect(throttle.retryAfter("10.0.0.5") == nil)
    }
}
