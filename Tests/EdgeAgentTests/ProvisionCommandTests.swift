import Foundation
import TestSupport
import Testing

@testable import EdgeAgent

/// `edge-agent provision` on the command line: what it needs, refused in one line before anything
/// is asked or changed. (The whole provisioning against headquarters and Twilio's stand-in is in
/// `EdgeHQTests/TwilioFallbackTests`.)
@Suite("edge-agent provision on the command line")
struct ProvisionCommandTests {
    @Test(
        "--twilio-number without Twilio's credentials, or before enrolment, stops with one line; neither flag is a usage error"
    )
    func refusals() async throws {
        let line = CommandLineTests()
        let folder = TemporaryFolder()
        let environment = ["EDGE_DATA_DIR": folder.file("data"), "EDGE_PUBLIC_URL": "https://agent.example.com"]

        let nothing = try await line.run(["provision"], environment: environment, in: folder)
        #expect(nothing.status == 64)
        #expect(nothing.standardError.contains("give --hq URL --token TOKEN, --twilio-number NUMBER, or both"))

        let noCredentials = try await line.run(
            ["provision", "--twilio-number", "+15557654321"], environment: environment, in: folder)
        #expect(noCredentials.status == 1)
        #expect(
            noCredentials.standardError
                == "edge-agent: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (in /etc/edge-agent/secrets.env) first\n")

        let credentials = environment.merging([
            "TWILIO_ACCOUNT_SID": "AC" + String(repeating: "0", count: 32), "TWILIO_AUTH_TOKEN": "token",
        ]) { $1 }
        let notEnrolled = try await line.run(
            ["provision", "--twilio-number", "+15557654321"], environment: credentials, in: folder)
        #expect(notEnrolled.status == 1)
        #expect(notEnrolled.standardError.hasPrefix("edge-agent: this box is not enrolled at headquarters"))
        #expect(!FileManager.default.fileExists(atPath: ProvisionedNumber.path(dataDirectory: folder.file("data"))))

        let badNumber = try await line.run(
            ["provision", "--twilio-number", "call me"], environment: credentials, in: folder)
        #expect(badNumber.status == 1)
        #expect(badNumber.standardError.contains("call me is not a phone number in E.164 form"))
    }
}
