import LocalStore
import Testing

@testable import EdgeAgent

@Suite("Keypad flow")
struct KeypadFlowTests {
    static let today = LocalDate(year: 2026, month: 11, day: 25)!

    func flow() -> KeypadFlow { KeypadFlow(today: { Self.today }, maxPartySize: 8) }

    func press(_ keys: String, _ flow: inout KeypadFlow) -> [KeypadFlow.Action] {
        keys.flatMap { flow.press(String($0)) }
    }

    @Test("1 books: party size, day, time, read-back, confirm")
    func booking() {
        var flow = flow()
        #expect(press("1", &flow) == [.say(.keypadPartySize)])
        #expect(press("4#", &flow) == [.say(.keypadDay)])
        #expect(press("2#", &flow) == [.say(.keypadTime)])
        let tomorrow = Self.today.adding(days: 1)
        #expect(
            press("1930#", &flow) == [
                .readBack(partySize: 4, date: tomorrow, time: LocalTime("19:30")!), .say(.keypadConfirm),
            ])
        #expect(press("1", &flow) == [.book(partySize: 4, date: tomorrow, time: LocalTime("19:30")!)])
        #expect(flow.step == .menu)
    }

    @Test("days as 1, 2 or YYYYMMDD; 2 at the read-back starts again; * is the menu from anywhere")
    func daysRestartAndStar() {
        var flow = flow()
        _ = press("12#", &flow)
        #expect(press("1#", &flow) == [.say(.keypadTime)])
        #expect(flow.step == .time(partySize: 2, date: Self.today))
        _ = press("1800#", &flow)
        #expect(press("2", &flow) == [.say(.keypadPartySize)])
        _ = press("3#", &flow)
        #expect(press("20261224#", &flow) == [.say(.keypadTime)])
        #expect(flow.step == .time(partySize: 3, date: LocalDate(year: 2026, month: 12, day: 24)!))
        #expect(press("*", &flow) == [.menu])
        #expect(flow.step == .menu)
    }

    @Test("bad entries are refused with the question asked again, nothing booked")
    func invalid() {
        var flow = flow()
        _ = press("1", &flow)
        #expect(press("0#", &flow) == [.say(.keypadInvalid), .say(.keypadPartySize)])
        #expect(press("99#", &flow) == [.say(.keypadInvalid), .say(.keypadPartySize)])
        _ = press("2#", &flow)
        #expect(press("20261301#", &flow) == [.say(.keypadInvalid), .say(.keypadDay)])
        #expect(press("20251231#", &flow) == [.say(.keypadInvalid), .say(.keypadDay)])
        _ = press("1#", &flow)
        #expect(press("2575#", &flow) == [.say(.keypadInvalid), .say(.keypadTime)])
        #expect(press("19#", &flow) == [.say(.keypadInvalid), .say(.keypadTime)])
        #expect(flow.step == .time(partySize: 2, date: Self.today))
    }

    @Test("2 hours, 3 message until # or silence, 0 staff, 9 language, other keys the menu again")
    func menuKeys() {
        var flow = flow()
        #expect(press("2", &flow) == [.openingHours, .menu])
        #expect(press("3", &flow) == [.startMessage])
        #expect(press("5", &flow) == [])
        #expect(press("#", &flow) == [.endMessage])
        _ = press("3", &flow)
        #expect(flow.messageEnded() == [.endMessage])
        #expect(flow.messageEnded() == [])
        #expect(press("0", &flow) == [.transfer])
        #expect(press("9", &flow) == [.switchLanguage, .menu])
        #expect(press("7", &flow) == [.say(.keypadInvalid), .menu])
    }
}
