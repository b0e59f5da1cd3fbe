import Foundation

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
