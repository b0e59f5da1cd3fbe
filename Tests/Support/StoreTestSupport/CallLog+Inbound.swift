public import LocalStore
public import Sync

extension CallLog {
    /// Records an inbound call to the restaurant, as Twilio's webhook would, and returns it.
    public func inbound(
        callSid: String = TestNumbers.newCallSid(), from: String = TestNumbers.caller,
        status: Call.Status = .inProgress
    ) async throws -> Call {
        try await recordIncoming(
            .init(callSid: callSid, from: from, to: TestNumbers.restaurant, direction: "inbound", status: status)
        ).call
    }
}
