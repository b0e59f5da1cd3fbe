public import LocalStore
public import Sync

import struct Foundation.UUID

/// The numbers test calls use.
public enum TestNumbers {
    /// The restaurant's Twilio number, which every test call dials.
    public static let restaurant = "+15557654321"
    /// The caller most tests have.
    public static let caller = "+15551234567"

    /// A CallSid of Twilio's shape that no other call of the test run has.
    public static func newCallSid() -> String {
        "CA" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

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
