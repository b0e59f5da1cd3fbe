import AsyncHTTPClient
import Foundation
import GRDB
import Hummingbird
import LocalStore
import NIOConcurrencyHelpers
import StoreTestSupport
import Sync
import TestSupport
import Testing
import TwilioWire

@testable import EdgeAgent

/// A clock fixed at an instant the test chooses.
struct FixedClock: WallClock {
    let instant: Date
    func now() -> Date { instant }
}

/// The tools over a fresh store, on Tuesday 2026-12-01 at noon in New York.
struct ToolBench {
    let folder = TemporaryFolder()
    let app: EdgeAgentApp
    let runner: ToolRunner
    let context: ToolContext
    let policy: ReservationPolicy

    static let now = ISO8601DateFormatter().date(from: "2026-12-01T17:00:00Z")!

    init(control: (any CallControl)? = nil, staffPhone: String? = "+15550001111") async throws {
        var configuration = testConfiguration(folder: folder)
        configuration.reservations.seatsPerSlot = 10
        configuration.reservations.closedDates = [LocalDate("2026-12-25")!]
        policy = configuration.reservations
        app = try await EdgeAgentApp.prepare(
            configuration: configuration, logger: LogCapture().logger, clock: FixedClock(instant: Self.now))
        let calls = CallLog(database: app.database)
        let call = try await calls.inbound(callSid: "CA11111111111111111111111111111111")
        context = ToolContext(callID: call.id, callerPhone: "+15551234567", callSid: call.callSid, language: "en")
        let book = ReservationBook(database: app.database, policy: policy)
        runner = ToolRunner(
            tools: [
                CheckAvailabilityTool(book: book), CreateReservationTool(book: book), UpdateReservationTool(book: book),
                CancelReservationTool(book: book), GetMenuTool(catalog: MenuCatalog(database: app.database)),
                GetOpeningHoursTool(policy: policy, clock: FixedClock(instant: Self.now)),
                TakeMessageTool(board: StaffMessageBoard(database: app.database)),
                TransferToStaffTool(control: control, staffPhone: staffPhone),
            ], calls: calls, logger: LogCapture().logger)
    }

    /// Runs a tool and parses its result.
    func call(_ name: String, _ arguments: String, language: String = "en") async -> JSONValue {
        var context = context
        context.language = language
        return JSONValue.parse(await runner.run(name: name, arguments: arguments, context: context))!
    }

    func reservations() async throws -> [Reservation] {
        try await app.database.read { db in try Reservation.order(Column("starts_at")).fetchAll(db) }
    }

    func executions() async throws -> [ToolExecution] {
        try await app.database.read { db in try ToolExecution.order(Column("started_at")).fetchAll(db) }
    }
}

@Suite("Tools")
struct ToolRunnerTests {
    @Test("the model is offered every tool of the spec with its JSON Schema")
    func declarations() async throws {
        let bench = try await ToolBench()
        guard case .array(let tools) = bench.runner.declarations else {
            Issue.record("not an array")
            return
        }
        let names = tools.compactMap { $0["function"]?["name"]?.stringValue }
        #expect(
            names == [
                "cancel_reservation", "check_availability", "create_reservation", "get_menu", "get_opening_hours",
                "take_message", "transfer_to_staff", "update_reservation",
            ])
        let create = try #require(tools.first { $0["function"]?["name"] == "create_reservation" })
        #expect(create["type"] == "function")
        #expect(create["function"]?["parameters"]?["required"] == ["date", "name", "party_size", "time"].sortedJSON)
        #expect(create["function"]?["parameters"]?["additionalProperties"] == false)
    }

    @Test("a booking made by the model lands in the book under the caller's number, and the run is logged")
    func createReservation() async throws {
        let bench = try await ToolBench()
        let result = await bench.call(
            "create_reservation", #"{"name":"Ada Lovelace","party_size":4,"date":"2026-12-02","time":"19:30"}"#)
        #expect(result["status"] == "confirmed")
        #expect(result["date"] == "2026-12-02")
        #expect(result["time"] == "19:30")
        let reservations = try await bench.reservations()
        #expect(reservations.count == 1)
        #expect(reservations[0].phone == "+15551234567")
        #expect(reservations[0].callID == bench.context.callID)
        #expect(reservations[0].source == .phoneAgent)
        #expect(result["reservation_id"]?.stringValue == reservations[0].id)

        let executions = try await bench.executions()
        #expect(executions.map(\.tool) == ["create_reservation"])
        #expect(executions[0].status == .ok)
        #expect(executions[0].arguments.contains("Ada Lovelace"))
        #expect(JSONValue.parse(executions[0].result) == result)
    }

    @Test(
        "arguments that break the schema come back as an error the model reads, and touch nothing",
        arguments: [
            (#"{"name":"Ada","party_size":4,"date":"2026-12-02"}"#, "arguments.time: required"),
            (
                #"{"name":"Ada","party_size":"four","date":"2026-12-02","time":"19:30"}"#,
                "arguments.party_size: must be a whole number"
            ),
            (
                #"{"name":"Ada","party_size":0,"date":"2026-12-02","time":"19:30"}"#,
                "arguments.party_size: must be at least 1"
            ),
            (
                #"{"name":"Ada","party_size":2.5,"date":"2026-12-02","time":"19:30"}"#,
                "arguments.party_size: must be a whole number"
            ),
            (#"{"name":"Ada","party_size":4,"date":"tomorrow","time":"19:30"}"#, "arguments.date: must match"),
            (#"{"name":"Ada","party_size":4,"date":"2026-02-30","time":"19:30"}"#, "date 2026-02-30 does not exist"),
            (#"{"name":"Ada","party_size":4,"date":"2026-12-02","time":"25:00"}"#, "time 25:00 is not a time of day"),
            (
                #"{"name":"Ada","party_size":4,"date":"2026-12-02","time":"19:30","table":"7"}"#,
                "arguments.table: unknown parameter"
            ),
            (#"{"name":"Ada","party_size":4,"date":"2026-12-02","time":"19:30""#, "not valid JSON"),
            (#"[1,2]"#, "arguments: must be an object"),
            (#"{"name":"  ","party_size":4,"date":"2026-12-02","time":"19:30"}"#, "needs the guest's name"),
            (
                #"{"name":"Ada","party_size":4,"date":"2026-12-02","time":"19:30","phone":"call me"}"#,
                "arguments.phone: must match"
            ),
        ])
    func invalidArguments(arguments: String, expected: String) async throws {
        let bench = try await ToolBench()
        let result = await bench.call("create_reservation", arguments)
        let error = try #require(result["error"]?.stringValue)
        #expect(error.contains(expected), "\(error)")
        #expect(try await bench.reservations().isEmpty)
        #expect(try await bench.executions().map(\.status) == [.error])
    }

    @Test("a business rule refusal carries the nearest alternatives")
    func fullSlot() async throws {
        let bench = try await ToolBench()
        _ = await bench.call("create_reservation", #"{"name":"A","party_size":8,"date":"2026-12-02","time":"19:00"}"#)
        let check = await bench.call("check_availability", #"{"date":"2026-12-02","time":"19:00","party_size":4}"#)
        #expect(check["available"] == false)
        #expect(check["reason"] == "full")
        guard case .array(let alternatives) = check["alternatives"] else {
            Issue.record("no alternatives")
            return
        }
        #expect(alternatives.count == 3)
        #expect(
            alternatives.first == ["date": "2026-12-02", "time": "20:30"]
                || alternatives.first == ["date": "2026-12-02", "time": "17:30"])

        // Another caller's booking (a phone of their own): a second booking of this phone for the same slot
        // would be answered with the first.
        let refused = await bench.call(
            "create_reservation",
            #"{"name":"B","party_size":4,"date":"2026-12-02","time":"19:00","phone":"+15550009999"}"#)
        #expect(refused["error"]?.stringValue?.contains("full") == true)
        #expect(refused["alternatives"] == check["alternatives"])
        #expect(
            await bench.call("check_availability", #"{"date":"2026-12-25","time":"19:00","party_size":2}"#)["reason"]
                == "closed")
        #expect(try await bench.reservations().count == 1)
    }

    @Test("a change and a cancellation find the caller's reservation by their number")
    func changeAndCancel() async throws {
        let bench = try await ToolBench()
        _ = await bench.call("create_reservation", #"{"name":"Ada","party_size":2,"date":"2026-12-02","time":"19:00"}"#)
        let moved = await bench.call("update_reservation", #"{"time":"20:00","party_size":3}"#)
        #expect(moved["time"] == "20:00")
        #expect(moved["party_size"] == 3)
        let nothing = await bench.call("update_reservation", #"{}"#)
        #expect(nothing["error"]?.stringValue?.contains("nothing to change") == true)

        _ = await bench.call("create_reservation", #"{"name":"Ada","party_size":2,"date":"2026-12-04","time":"18:00"}"#)
        let ambiguous = await bench.call("cancel_reservation", #"{}"#)
        #expect(ambiguous["error"]?.stringValue?.contains("several upcoming reservations") == true)
        let cancelled = await bench.call("cancel_reservation", #"{"date":"2026-12-04"}"#)
        #expect(cancelled["status"] == "cancelled")
        #expect(cancelled["date"] == "2026-12-04")
        let statuses = try await bench.reservations().map(\.status)
        #expect(statuses == [.confirmed, .cancelled])
        let stranger = await bench.call("cancel_reservation", #"{"phone":"+15559999999"}"#)
        #expect(stranger["error"]?.stringValue?.contains("no upcoming reservation") == true)
    }

    @Test("the menu answers in the caller's language with allergens and dietary filters")
    func menu() async throws {
        let bench = try await ToolBench()
        let spanish = await bench.call("get_menu", #"{"dietary":"vegan"}"#, language: "es")
        #expect(spanish["language"] == "es")
        guard case .array(let items) = spanish["items"] else {
            Issue.record("no items")
            return
        }
        #expect(items.contains { $0["name"] == "Sopa de tomate asado" })
        #expect(
            items.allSatisfy { item in
                if case .array(let tags) = item["dietary"] { return tags.contains("vegan") }
                return false
            })
        let mains = await bench.call("get_menu", #"{"category":"mains","language":"en"}"#)
        guard case .array(let dishes) = mains["items"] else {
            Issue.record("no mains")
            return
        }
        let salmon = try #require(dishes.first { $0["name"] == "Grilled salmon" })
        #expect(salmon["price"] == "26.00")
        #expect(salmon["allergens"] == ["fish"])
        #expect(await bench.call("get_menu", #"{"dietary":"keto"}"#)["error"] != nil)
    }

    @Test("opening hours of a day and of the week")
    func openingHours() async throws {
        let bench = try await ToolBench()
        let monday = await bench.call("get_opening_hours", #"{"date":"2026-12-07"}"#)
        #expect(monday["closed"] == true)
        #expect(monday["weekday"] == "monday")
        let friday = await bench.call("get_opening_hours", #"{"date":"2026-12-04"}"#)
        #expect(friday["hours"] == ["17:00-22:00"])
        #expect(await bench.call("get_opening_hours", #"{"date":"2026-12-25"}"#)["closed"] == true)
        let week = await bench.call("get_opening_hours", "")
        #expect(week["week"]?["monday"] == "closed")
        #expect(week["closed_dates"] == ["2026-12-25"])
        #expect(week["today"] == "2026-12-01")
    }

    @Test("a message for the staff is stored with the caller's number")
    func takeMessage() async throws {
        let bench = try await ToolBench()
        let result = await bench.call("take_message", #"{"message":"Please call me about a private party"}"#)
        #expect(result["status"] == "saved")
        let messages = try await StaffMessageBoard(database: bench.app.database).open()
        #expect(messages.count == 1)
        #expect(messages[0].id == result["message_id"]?.stringValue)
        #expect(messages[0].callbackPhone == "+15551234567")
        #expect(messages[0].callID == bench.context.callID)
        #expect(await bench.call("take_message", #"{}"#)["error"]?.stringValue?.contains("message: required") == true)
    }

    @Test("an unknown tool is an error for the model, not a crash")
    func unknownTool() async throws {
        let bench = try await ToolBench()
        let result = await bench.call("launch_rockets", "{}")
        #expect(result["error"]?.stringValue?.hasPrefix("there is no tool named launch_rockets") == true)
    }
}

/// The Twilio REST double: records call updates, checks Basic auth, answers like Twilio.
final class TwilioRESTDouble: Sendable {
    struct Update: Sendable {
        let path: String
        let authorization: String?
        let form: FormParameters?
    }

    let updates = NIOLockedValueBox<[Update]>([])
    let failWith: Int?

    init(failWith: Int? = nil) {
        self.failWith = failWith
    }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/2010-04-01/Accounts/:account/Calls/:call") { request, context in
            let body = try await request.body.collect(upTo: 65536)
            self.updates.withLockedValue {
                $0.append(
                    Update(
                        path: request.uri.path, authorization: request.headers[.authorization],
                        form: FormParameters(body: body.readableBytesView)))
            }
            if let status = self.failWith {
                let json =
                    #"{"code":20404,"message":"The requested resource was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#
                return Response(
                    status: .init(code: status), headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: json)))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: #"{"sid":"CA11111111111111111111111111111111","status":"in-progress"}"#)))
        }
        return router
    }
}

@Suite("Transfer to staff")
struct TransferToStaffTests {
    static let accountSID = "AC00000000000000000000000000000001"

    func client(_ url: URL) -> TwilioRESTClient {
        TwilioRESTClient(
            http: .shared, baseURL: url, accountSID: Self.accountSID, authToken: Secret("rest-token"),
            logger: LogCapture().logger)
    }

    @Test("the call is redirected to the staff number through Twilio's REST API")
    func transfer() async throws {
        let double = TwilioRESTDouble()
        try await withLoopbackServer(double.router) { url in
            let bench = try await ToolBench(control: client(url))
            let result = await bench.call("transfer_to_staff", #"{"reason":"large group"}"#)
            #expect(result == ["status": "transferring"])
        }
        let updates = double.updates.withLockedValue { $0 }
        #expect(updates.count == 1)
        #expect(
            updates[0].path == "/2010-04-01/Accounts/\(Self.accountSID)/Calls/CA11111111111111111111111111111111.json")
        let expectedAuth = "Basic " + Data("\(Self.accountSID):rest-token".utf8).base64EncodedString()
        #expect(updates[0].authorization == expectedAuth)
        #expect(updates[0].form?["Twiml"] == "<Response><Dial>+15550001111</Dial></Response>")
    }

    @Test("a failed transfer, or none configured, is an error the model can act on")
    func failures() async throws {
        let double = TwilioRESTDouble(failWith: 500)
        try await withLoopbackServer(double.router) { url in
            let bench = try await ToolBench(control: client(url))
            let result = await bench.call("transfer_to_staff", "{}")
            #expect(result["error"]?.stringValue?.contains("offer to take a message") == true)
        }
        let unconfigured = try await ToolBench(control: nil, staffPhone: nil)
        #expect(
            await unconfigured.call("transfer_to_staff", "{}")["error"]?.stringValue?.contains("not set up") == true)
    }

    @Test("hanging up a call that already ended counts as done")
    func hangUpEndedCall() async throws {
        let double = TwilioRESTDouble(failWith: 404)
        try await withLoopbackServer(double.router) { url in
            try await client(url).hangUp(callSid: "CA11111111111111111111111111111111")
        }
        #expect(double.updates.withLockedValue { $0 }.first?.form?["Status"] == "completed")
    }
}

extension Array where Element == String {
    var sortedJSON: JSONValue { .array(sorted().map(JSONValue.string)) }
}
