import CloudAccountDoubles
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LocalStore
import Sync
import TestSupport
import Testing
import TwilioWire

@testable import EdgeAgent

/// Text confirmations end to end on the box: written in the caller's language, sent through the
/// Twilio REST stand-in by the sender (once, again after a failure, never to a landline or to a
/// number that said STOP), and replies (STOP, START, C) through the signed SMS webhook.
@Suite("Text confirmations", .serialized)
struct TextConfirmationTests {
    static let accountSID = "AC" + String(repeating: "0", count: 31) + "7"
    static let restaurantNumber = CallTestRig.restaurant
    static let caller = CallTestRig.caller

    /// An agent whose Twilio account is the stand-in at `twilio`.
    static func withAgent(
        twilio: URL, lookup: Bool = false,
        _ body: @escaping @Sendable (EdgeAgentApp) async throws -> Void
    ) async throws {
        let folder = TemporaryFolder()
        var configuration = testConfiguration(folder: folder)
        configuration.restaurant.name = "Trattoria Roma"
        configuration.twilio.accountSID = accountSID
        configuration.twilio.apiBaseURL = twilio
        configuration.twilio.lookupBaseURL = twilio
        configuration.textMessages.from = restaurantNumber
        configuration.textMessages.lookup = lookup
        let allDay = ReservationPolicy.Period("12:00-23:00")!
        configuration.reservations.openingHours = Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [allDay]) })
        let app = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
        do {
            try await body(app)
        } catch {
            await app.shutdown()
            throw error
        }
        await app.shutdown()
    }

    /// Books a table for four tomorrow at 19:30 as the phone agent would, with its text.
    static func book(_ app: EdgeAgentApp, language: String = "en", consented: Bool = true) async throws -> Reservation {
        let writer = try #require(app.textConfirmationWriter)
        let book = ReservationBook(database: app.database, policies: app.policies)
        let zone = app.policies.current.timeZone
        let context = ToolContext(callID: "call-1", callerPhone: caller, callSid: nil, language: language)
        var confirmation = try #require(writer.confirmation(.booked, context: context, timeZone: zone))
        if consented != confirmation.consented {
            confirmation = TextConfirmation(
                kind: .booked, to: caller, language: language, callID: "call-1", consented: consented,
                body: confirmation.body)
        }
        return try await book.create(
            .init(
                name: "Ada Lovelace", phone: caller, partySize: 4,
                date: LocalDate(Date(), in: zone).adding(days: 1), time: LocalTime("19:30")!, source: .phoneAgent),
            actor: "agent", confirmation: confirmation)
    }

    static func statuses(_ app: EdgeAgentApp) async throws -> [String] {
        try await app.database.read { db in
            try String.fetchAll(db, sql: "SELECT status FROM text_confirmations ORDER BY created_at")
        }
    }

    static func serve<T: Sendable>(_ twilio: TwilioMessagingDouble, _ body: (URL) async throws -> T) async throws -> T {
        let router = Router()
        twilio.register(on: router)
        return try await withLoopbackServer(router, body)
    }

    @Test("the text says restaurant, day, time, party and how to cancel, in the caller's language")
    func wording() throws {
        let reservation = Reservation(
            id: "r1", name: "Ada", phone: Self.caller, partySize: 4,
            startsAt: ISO8601DateFormatter().date(from: "2026-12-12T00:30:00Z")!.unixMilliseconds, durationMinutes: 90,
            source: .phoneAgent, createdAt: 0, updatedAt: 0)
        let zone = TimeZone(identifier: "America/New_York")!
        let phrases = try PhraseBook.shipped()
        let english = TextConfirmationWriter.values(
            reservation, restaurant: "Trattoria Roma", language: "en", timeZone: zone)
        #expect(
            phrases.text(.textBooked, language: "en", english)
                == "Trattoria Roma: your table for 4 on Friday 11 December at 19:30 is booked. Reply C to cancel.")
        let spanish = TextConfirmationWriter.values(
            reservation, restaurant: "Trattoria Roma", language: "es", timeZone: zone)
        #expect(
            phrases.text(.textBooked, language: "es", spanish)
                == "Trattoria Roma: su mesa para 4 el viernes 11 de diciembre a las 19:30 está reservada. "
                + "Responda C para cancelar.")
    }

    @Test("sent once through Twilio, from the restaurant's number; a 503 is tried again later, not lost")
    func sent() async throws {
        let twilio = TwilioMessagingDouble(accountSID: Self.accountSID, authToken: testAuthToken)
        try await Self.serve(twilio) { url in
            try await Self.withAgent(twilio: url) { app in
                let sender = try #require(app.makeTextConfirmationSender())
                twilio.failuresLeft.withLockedValue { $0 = 1 }
                _ = try await Self.book(app)
                #expect(await sender.sendDue() == 0)
                #expect(twilio.messages.withLockedValue { $0 }.isEmpty)
                #expect(try await Self.statuses(app) == ["pending"])
                #expect(try await TextConfirmations(database: app.database).due().isEmpty)
                // Due again once its retry time has come.
                try await app.database.write { db in
                    try db.execute(sql: "UPDATE text_confirmations SET next_attempt_at = 0")
                }
                #expect(await sender.sendDue() == 1)
                #expect(await sender.sendDue() == 0)
                let messages = twilio.messages.withLockedValue { $0 }
                #expect(messages.count == 1)
                #expect(messages.first?["To"] == Self.caller)
                #expect(messages.first?["From"] == Self.restaurantNumber)
                #expect(messages.first?["Body"]?.hasPrefix("Trattoria Roma: your table for 4 on ") == true)
                #expect(messages.first?["Body"]?.hasSuffix(" at 19:30 is booked. Reply C to cancel.") == true)
                #expect(try await Self.statuses(app) == ["sent"])
            }
        }
    }

    @Test("a landline (Lookup) and a number that replied STOP at the carrier (21610) get no text")
    func refused() async throws {
        let twilio = TwilioMessagingDouble(accountSID: Self.accountSID, authToken: testAuthToken)
        try await Self.serve(twilio) { url in
            try await Self.withAgent(twilio: url, lookup: true) { app in
                let sender = try #require(app.makeTextConfirmationSender())
                twilio.lineTypes.withLockedValue { $0[Self.caller] = "landline" }
                _ = try await Self.book(app)
                #expect(await sender.sendDue() == 0)
                #expect(twilio.lookups.withLockedValue { $0 } == [Self.caller])
                #expect(try await Self.statuses(app) == ["skipped"])

                twilio.lineTypes.withLockedValue { $0[Self.caller] = "mobile" }
                twilio.unsubscribed.withLockedValue { _ = $0.insert(Self.caller) }
                let queue = TextConfirmations(database: app.database)
                try await app.database.write { db in
                    try db.execute(sql: "UPDATE text_confirmations SET status = 'pending'")
                }
                #expect(await sender.sendDue() == 0)
                #expect(try await queue.isOptedOut(Self.caller))
                #expect(twilio.messages.withLockedValue { $0 }.isEmpty)
            }
        }
    }

    @Test("queued while Twilio is away, sent by the next agent after a restart")
    func restart() async throws {
        let twilio = TwilioMessagingDouble(accountSID: Self.accountSID, authToken: testAuthToken)
        let folder = TemporaryFolder()
        try await Self.serve(twilio) { url in
            var configuration = testConfiguration(folder: folder)
            configuration.twilio.accountSID = Self.accountSID
            configuration.twilio.apiBaseURL = url
            configuration.textMessages.from = Self.restaurantNumber
            let allDay = ReservationPolicy.Period("12:00-23:00")!
            configuration.reservations.openingHours = Dictionary(uniqueKeysWithValues: (1...7).map { ($0, [allDay]) })
            let first = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
            _ = try await Self.book(first)
            await first.shutdown()
            let second = try await EdgeAgentApp.prepare(configuration: configuration, logger: LogCapture().logger)
            let sender = try #require(second.makeTextConfirmationSender())
            #expect(await sender.sendDue() == 1)
            #expect(twilio.messages.withLockedValue { $0 }.count == 1)
            await second.shutdown()
        }
    }

    /// Posts a signed SMS webhook from `from` with `body`.
    static func reply(_ client: some TestClientProtocol, from: String, body: String, signed: Bool = true)
        async throws -> TestResponse
    {
        let form =
            "AccountSid=\(accountSID)&Body=\(body)&From=\(from.replacingOccurrences(of: "+", with: "%2B"))"
            + "&MessageSid=SM\(String(repeating: "1", count: 32))&To=%2B15557654321"
        let signature = TwilioSignature.compute(
            url: "https://agent.example.com/twilio/sms", parameters: FormParameters(body: Array(form.utf8))!,
            authToken: testAuthToken)
        return try await TwilioWebhookTests.post(
            client, "/twilio/sms", body: form, signature: signed ? signature : "forged")
    }

    @Test("replies: a forged one changes nothing; STOP stops texts; START allows them; C cancels the next table")
    func replies() async throws {
        let twilio = TwilioMessagingDouble(accountSID: Self.accountSID, authToken: testAuthToken)
        try await Self.serve(twilio) { url in
            try await Self.withAgent(twilio: url) { app in
                let reservation = try await Self.book(app)
                let queue = TextConfirmations(database: app.database)
                let application = Application(router: app.makeRouter(), logger: LogCapture().logger)
                try await application.test(.router) { client in
                    let forged = try await Self.reply(client, from: Self.caller, body: "STOP", signed: false)
                    #expect(forged.status == .forbidden)
                    #expect(try await !queue.isOptedOut(Self.caller))

                    let stop = try await Self.reply(client, from: Self.caller, body: "STOP")
                    #expect(stop.status == .ok)
                    #expect(String(buffer: stop.body) == "<Response/>")
                    #expect(try await queue.isOptedOut(Self.caller))
                    #expect(try await Self.statuses(app) == ["skipped"])

                    _ = try await Self.reply(client, from: Self.caller, body: "start")
                    #expect(try await !queue.isOptedOut(Self.caller))

                    let cancel = try await Self.reply(client, from: Self.caller, body: "C")
                    #expect(cancel.status == .ok)
                    let answer = String(buffer: cancel.body)
                    #expect(answer.hasPrefix("<Response><Message>Trattoria Roma: your table for 4 on "))
                    #expect(answer.hasSuffix(" at 19:30 is cancelled.</Message></Response>"))
                    let stored = try await ReservationBook(database: app.database, policies: app.policies)
                        .reservation(id: reservation.id)
                    #expect(stored?.status == .cancelled)
                    let nothing = try await Self.reply(client, from: Self.caller, body: "C")
                    #expect(String(buffer: nothing.body).contains("you have no upcoming table to cancel"))
                }
            }
        }
    }
}
