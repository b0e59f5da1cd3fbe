import Foundation

/// Twilio's own Python library (`twilio.request_validator`), so that signatures are checked against
/// Twilio's code rather than against our reading of its documentation.
public enum TwilioLibrary {
    /// `RequestValidator(token).compute_signature(url, params)` for each request; nil when the test
    /// Python is not installed or cannot import the library (CI installs both, and its tests fail
    /// without them).
    public static func signatures(_ requests: [(url: String, form: [(String, String)])], token: String) async throws
        -> [String]?
    {
        guard TestPython.isInstalled else { return nil }
        let forms = requests.map { request in request.form.map { [$0.0, $0.1] } }
        let json = try JSONSerialization.data(withJSONObject: [requests.map(\.url), forms])
        let outcome = try await ChildProcess.run(
            URL(fileURLWithPath: TestPython.path),
            [
                "-c",
                """
                import json, sys
                from twilio.request_validator import RequestValidator
                validator = RequestValidator(sys.argv[1])
                urls, forms = json.loads(sys.stdin.read())
                for url, form in zip(urls, forms):
                    print(validator.compute_signature(url, dict(form)))
                """,
                token,
            ], environment: nil, input: json)
        guard outcome.status == 0 else { return nil }
        return outcome.standardOutput.split(separator: "\n").map(String.init)
    }
}
