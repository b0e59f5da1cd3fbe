import Foundation
import GRDB
import LocalStore
import StoreTestSupport
import Sync
import Testing

@testable import CallSimulator
@testable import EdgeAgent

/// The staff page in a real browser (headless Chromium through chromedriver): a manager logs in,
/// reads today's book, opens a call's transcript, marks a message handled and takes a dish off the
/// menu; the database changes, and a call placed right after is never offered the dish.
/// Screenshots at 390×844 and 1280×800 go to `.build/test-artifacts/`.
@Suite("The staff page in a browser", .serialized)
struct StaffPageBrowserTests {
    static let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")

    static func save(_ png: Data, _ name: String) throws {
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try png.write(to: artifacts.appendingPathComponent(name))
    }

    /// Today's book, a call with its transcript and a message, written as the phone would have.
    static func seed(_ app: EdgeAgentApp) async throws -> (callID: String, messageID: String) {
        let zone = app.policies.current.timeZone
        let today = LocalDate(Date(), in: zone)
        let now = Date().unixMilliseconds
        try await app.database.write { db in
            for (index, (name, size, time, source)) in [
                ("Ana Ruiz", 4, "19:30", Reservation.Source.phoneAgent), ("Bo Li", 2, "20:00", .keypad),
                ("Chen Wu", 6, "18:15", .staff),
            ].enumerated() {
                let start = today.instant(at: LocalTime(time)!, in: zone).unixMilliseconds
                try Reservation(
                    id: "seed-\(index)", customerID: nil, name: name, phone: "+1555010000\(index)", partySize: size,
                    startsAt: start, durationMinutes: 90, status: .confirmed, source: source, notes: nil, callID: nil,
                    version: 1, createdAt: now, updatedAt: now
                ).insert(db)
            }
        }
        let log = CallLog(database: app.database)
        let call = try await log.inbound(
            callSid: "CA" + String(repeating: "7", count: 32), from: "+15550107777", status: .completed)
        try await log.append(
            ConversationTurn(
                id: "seed-turn-1", callID: call.id, sequence: 1, speaker: .caller,
                text: "Do you have a gluten free pasta tonight?", language: "en", startedAt: now))
        try await log.append(
            ConversationTurn(
                id: "seed-turn-2", callID: call.id, sequence: 2, speaker: .agent,
                text: "Yes, we can make any pasta gluten free.", language: "en", startedAt: now + 2000))
        let message = try await StaffMessageBoard(database: app.database).leave(
            message: "Birthday cake for table of six, please call back", callbackPhone: "+15550108888", callID: nil,
            language: "en")
        return (call.id, message.id)
    }

    /// A new staff token named `name`, for logging in.
    static func staffToken(_ app: EdgeAgentApp, name: String) async throws -> String {
        try await AdminTokens(database: app.database).add(name: name, role: .staff, actor: "test").token
    }

    /// Types `token` into the login form on the page `browser` shows and sends it.
    static func logIn(_ browser: WebDriver, with token: String) async throws {
        try await browser.type(token, into: "#token")
        try await browser.click("#login")
    }

    @Test(
        "log in, read today's book, open a transcript, mark a message handled, switch a dish off; the next call is never offered it"
    )
    func manager() async throws {
        // The call after the change asks the menu, then says what the model may say.
        let llm = OpenAIChatDouble([
            ScriptedLLM.tool("get_menu", #"{"language":"en"}"#), ScriptedLLM.text("We have a lovely menu tonight."),
        ])
        let transcription = TranscriptionDouble(["What is on the menu tonight?"])
        let rig = CallTestRig(llm: llm, transcription: transcription, tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            guard let browser = try await WebDriver.start(width: 390, height: 844, phone: true) else { return }
            do {
                let (callID, messageID) = try await Self.seed(app)
                let token = try await Self.staffToken(app, name: "Lucia")
                let site = simulator.agentURL.absoluteString

                // Logged out, the page asks for a login; a wrong token says so and lets no one in.
                try await browser.open(site)
                #expect(try await browser.title().hasPrefix("Log in"))
                try await Self.logIn(browser, with: "eat_wrong")
                #expect(try await browser.text(".error") == "Wrong token, or wrong name or PIN.")

                try await Self.logIn(browser, with: token)
                // The book is only on the page after the login (the browser waits for it).
                let book = try await browser.text("#reservations")
                #expect(try await browser.title().hasPrefix("Today's book"))
                for line in ["18:15 Chen Wu 6", "19:30 Ana Ruiz 4", "20:00 Bo Li 2"] {
                    #expect(book.contains(line), "\(book)")
                }
                #expect(book.firstRange(of: "18:15")!.lowerBound < book.firstRange(of: "19:30")!.lowerBound)
                let narrow = try await browser.widths()
                #expect(narrow.viewport == 390)
                #expect(narrow.content <= narrow.viewport, "the page scrolls sideways at 390 px: \(narrow)")
                try Self.save(try await browser.screenshot(), "staff-page-390x844.png")

                // The transcript of a call, its read audited with Lucia's name.
                try await browser.open("\(site)/calls/\(callID)")
                let transcript = try await browser.text("#transcript")
                #expect(transcript.contains("Do you have a gluten free pasta tonight?"))
                #expect(transcript.contains("Yes, we can make any pasta gluten free."))
                let reads = try await app.database.read { db in
                    try Int.fetchOne(
                        db, sql: "SELECT count(*) FROM audit_log WHERE actor = 'staff:Lucia' AND action = 'read.call'")
                }
                #expect(reads == 1)

                // A message handled.
                try await browser.open(site)
                try await browser.click("#handled-\(messageID)")
                // The page after the change (the browser waits for it) has nothing left to handle.
                #expect(try await browser.text("#no-messages") == "Nothing to handle.")
                #expect(try await StaffMessageBoard(database: app.database).open().isEmpty)

                // A dish off the menu for the night.
                let dish = try #require(try await MenuCatalog(database: app.database).items(language: "en").first)
                try await browser.click("#menu-\(dish.item.id)")
                #expect(try await browser.text("#menu-\(dish.item.id).off") == "Off")
                let stored = try await app.database.read { db in
                    try Bool.fetchOne(
                        db, sql: "SELECT available FROM menu_items WHERE id = ?", arguments: [dish.item.id])
                }
                #expect(stored == false)

                // The same page on a desktop screen.
                if let desktop = try await WebDriver.start(width: 1280, height: 800) {
                    do {
                        try await desktop.open(site)
                        try await Self.logIn(desktop, with: token)
                        #expect(try await desktop.text("#reservations").contains("Ana Ruiz"))
                        let wide = try await desktop.widths()
                        #expect(wide.content <= wide.viewport)
                        try Self.save(try await desktop.screenshot(), "staff-page-1280x800.png")
                    } catch {
                        await desktop.quit()
                        throw error
                    }
                    await desktop.quit()
                }

                // A call right after: the menu the model is given leaves the dish out, so it cannot offer it.
                try await simulator.callToEnd(
                    app, script: try .caller(saying: ["en-booking"], greetingWithin: .seconds(8)))
                let menuResults = try await app.database.read { db in
                    try String.fetchAll(db, sql: "SELECT result FROM tool_executions WHERE tool = 'get_menu'")
                }
                #expect(menuResults.count == 1)
                #expect(menuResults.allSatisfy { !$0.contains(dish.name) && !$0.contains(dish.item.id) })
                #expect(menuResults.first?.contains("\"name\"") == true)
                let asked = llm.requests.withLockedValue { $0 }
                #expect(asked.count == 2)
                #expect(asked.allSatisfy { !"\($0)".contains(dish.name) })
            } catch {
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    @Test("in Spanish when the browser prefers Spanish")
    func spanishAndRefusals() async throws {
        let rig = CallTestRig(
            llm: OpenAIChatDouble([]), transcription: TranscriptionDouble([]), tts: ElevenLabsDouble())
        try await rig.run { app, simulator in
            guard let browser = try await WebDriver.start(width: 320, height: 640, phone: true, language: "es-ES")
            else { return }
            do {
                let token = try await Self.staffToken(app, name: "Pablo")
                let site = simulator.agentURL.absoluteString
                try await browser.open(site)
                #expect(try await browser.title().hasPrefix("Entrar"))
                try await Self.logIn(browser, with: token)
                #expect(try await browser.text("#menu-title") == "Carta")
                #expect(try await browser.title().hasPrefix("Reservas de hoy"))
                // Readable at 320 px: nothing wider than the screen.
                let narrow = try await browser.widths()
                #expect(narrow.viewport == 320 && narrow.content <= 320, "\(narrow)")
            } catch {
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }
}
