import Foundation
import TestSupport
import Testing

/// A local S3-compatible server for tests: moto (from PyPI, installed by
/// `install-build-deps.sh --test`) on a free loopback port, with a bucket `edge-recordings` and an
/// IAM user whose access key the tests sign with. Once set up, moto checks every request's
/// Signature Version 4, so a wrong signature is refused as by AWS.
final class S3TestServer: Sendable {
    let process: Process
    let input: Pipe
    let endpoint: URL
    let accessKeyID: String
    let secretAccessKey: String
    static let bucket = "edge-recordings"

    /// Whether the server can run here. In CI it must (the test command installs it).
    static var isAvailable: Bool { TestPython.isInstalled }

    static let script = #"""
        import json, sys
        import boto3
        from moto import settings
        from moto.core.responses import ActionAuthenticatorMixin
        from moto.server import ThreadedMotoServer
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        setup = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="edge-hq")
        iam.put_user_policy(UserName="edge-hq", PolicyName="recordings", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="edge-hq")["AccessKey"]
        boto3.client("s3", **setup).create_bucket(Bucket="edge-recordings")
        # From here on every request must carry a valid Signature Version 4 by that key.
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        print(json.dumps({"endpoint": url, "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"]}), flush=True)
        sys.stdin.read()
        server.stop()
        """#

    init() async throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: TestPython.path)
        process.arguments = ["-c", Self.script]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = try await ChildOutput.firstLine(output.fileHandleForReading)
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
            let endpoint = object["endpoint"].flatMap(URL.init(string:)), let id = object["access_key_id"],
            let secret = object["secret_access_key"]
        else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.endpoint = endpoint
        accessKeyID = id
        secretAccessKey = secret
    }

    /// Stops the server: closing its standard input ends it (nothing waits for that here).
    func stop() {
        try? input.fileHandleForWriting.close()
    }
}
