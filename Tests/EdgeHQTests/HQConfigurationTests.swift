import EdgeHQ
import Foundation
import Testing

/// `edge-hq`'s settings from the environment: what each variable does, and errors that name the
/// variable and never show a secret.
@Suite("Headquarters: configuration")
struct HQConfigurationTests {
    static let base = ["EDGE_HQ_DATABASE_URL": "postgres://edge_hq:pa%24%24word@db.internal:5433/edge_hq"]

    /// The message loading fails with when `extra` is merged into ``base``; empty when it loads.
    static func loadError(_ extra: [String: String]) -> String {
        do {
            _ = try HQConfiguration.load(environment: base.merging(extra) { $1 })
            return ""
        } catch {
            return error.description
        }
    }

    @Test("the database URL, the recording folder by default, and an S3 bucket when its endpoint is set")
    func settings() throws {
        let plain = try HQConfiguration.load(environment: Self.base)
        #expect(plain.database.password == "pa$$word")
        #expect(plain.database.port == 5433)
        #expect(plain.recordingStorage == .folder("./edge-hq-recordings"))
        let folder = try HQConfiguration.load(
            environment: Self.base.merging(["EDGE_HQ_RECORDINGS_DIR": "/srv/recordings"]) { $1 })
        #expect(folder.recordingStorage == .folder("/srv/recordings"))
        let s3 = try HQConfiguration.load(
            environment: Self.base.merging([
                "EDGE_HQ_S3_ENDPOINT": "https://s3.eu-west-1.amazonaws.com", "EDGE_HQ_S3_BUCKET": "trattoria-calls",
                "EDGE_HQ_S3_REGION": "eu-west-1", "EDGE_HQ_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
                "EDGE_HQ_S3_SECRET_ACCESS_KEY": "very-secret",
            ]) { $1 })
        guard case .s3(let location) = s3.recordingStorage else {
            Issue.record("not S3: \(s3.recordingStorage)")
            return
        }
        #expect(location.bucket == "trattoria-calls")
        #expect(location.region == "eu-west-1")
        #expect(location.secretAccessKey == "very-secret")
        #expect(!s3.recordingStorage.description.contains("very-secret"))
    }

    @Test(
        "the secrets key is 32 bytes of base64 and the public URL an http(s) URL; a bad one names its variable, never the value"
    )
    func twilioFallbackSettings() throws {
        let key = Data(repeating: 9, count: 32).base64EncodedString()
        let set = try HQConfiguration.load(
            environment: Self.base.merging([
                "EDGE_HQ_SECRETS_KEY": key, "EDGE_HQ_PUBLIC_URL": "https://hq.example.com/",
            ]) { $1 })
        #expect(set.secretsKey == [UInt8](repeating: 9, count: 32))
        #expect(set.publicURL == URL(string: "https://hq.example.com/"))
        #expect(try HQConfiguration.load(environment: Self.base).secretsKey == nil)
        let short = Self.loadError(["EDGE_HQ_SECRETS_KEY": Data(repeating: 9, count: 16).base64EncodedString()])
        #expect(short == "EDGE_HQ_SECRETS_KEY must be 32 random bytes in base64 (head -c 32 /dev/urandom | base64)")
        #expect(Self.loadError(["EDGE_HQ_SECRETS_KEY": "not base64 at all"]).hasPrefix("EDGE_HQ_SECRETS_KEY must be"))
        #expect(
            Self.loadError(["EDGE_HQ_PUBLIC_URL": "ftp://hq.example.com"])
                == "EDGE_HQ_PUBLIC_URL must be https://host[:port][/path], without a query")
    }

    @Test("recordings are kept 90 days by default, or as set; a bad number of days is refused by name")
    func recordingRetention() throws {
        #expect(try HQConfiguration.load(environment: Self.base).recordingRetentionDays == 90)
        let set = try HQConfiguration.load(
            environment: Self.base.merging(["EDGE_HQ_RECORDING_RETENTION_DAYS": "30"]) { $1 })
        #expect(set.recordingRetentionDays == 30)
        for bad in ["0", "ninety", "4000"] {
            #expect(throws: HQConfigurationError.self) {
                try HQConfiguration.load(
                    environment: Self.base.merging(["EDGE_HQ_RECORDING_RETENTION_DAYS": bad]) { $1 })
            }
            do {
                _ = try HQConfiguration.load(
                    environment: Self.base.merging(["EDGE_HQ_RECORDING_RETENTION_DAYS": bad]) { $1 })
            } catch {
                #expect(error.description.contains("EDGE_HQ_RECORDING_RETENTION_DAYS must be a number of days"))
            }
        }
    }

    @Test("requests are answered within 30 s by default, or as set; a bad limit is refused by name")
    func requestTimeout() throws {
        #expect(try HQConfiguration.load(environment: Self.base).requestTimeout == .seconds(30))
        let set = try HQConfiguration.load(
            environment: Self.base.merging(["EDGE_HQ_REQUEST_TIMEOUT_SECONDS": "12"]) { $1 })
        #expect(set.requestTimeout == .seconds(12))
        for bad in ["0", "soon", "601", "-5"] {
            let error = #expect(throws: HQConfigurationError.self) {
                try HQConfiguration.load(
                    environment: Self.base.merging(["EDGE_HQ_REQUEST_TIMEOUT_SECONDS": bad]) { $1 })
            }
            #expect(error?.description.contains("EDGE_HQ_REQUEST_TIMEOUT_SECONDS must be a number of seconds") == true)
        }
    }

    @Test("an incomplete or malformed S3 setting names the variables, never the secret")
    func s3Errors() {
        let missing = Self.loadError([
            "EDGE_HQ_S3_ENDPOINT": "http://127.0.0.1:9000", "EDGE_HQ_S3_SECRET_ACCESS_KEY": "very-secret",
        ])
        #expect(missing.contains("EDGE_HQ_S3_BUCKET") && missing.contains("EDGE_HQ_S3_ACCESS_KEY_ID"))
        #expect(!missing.contains("very-secret"))
        let withPath = Self.loadError([
            "EDGE_HQ_S3_ENDPOINT": "http://127.0.0.1:9000/bucket", "EDGE_HQ_S3_BUCKET": "b",
            "EDGE_HQ_S3_ACCESS_KEY_ID": "id", "EDGE_HQ_S3_SECRET_ACCESS_KEY": "very-secret",
        ])
        #expect(withPath.contains("EDGE_HQ_S3_ENDPOINT"))
        let badBucket = Self.loadError([
            "EDGE_HQ_S3_ENDPOINT": "http://127.0.0.1:9000", "EDGE_HQ_S3_BUCKET": "Bad_Bucket",
            "EDGE_HQ_S3_ACCESS_KEY_ID": "id", "EDGE_HQ_S3_SECRET_ACCESS_KEY": "very-secret",
        ])
        #expect(badBucket.contains("EDGE_HQ_S3_BUCKET") && !badBucket.contains("very-secret"))
        let badDatabase = Self.loadError(["EDGE_HQ_DATABASE_URL": "mysql://user:hunter2@db/x"])
        #expect(badDatabase.contains("EDGE_HQ_DATABASE_URL") && !badDatabase.contains("hunter2"))
    }
}
