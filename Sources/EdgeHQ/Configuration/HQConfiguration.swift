public import Foundation

/// `edge-hq`'s settings, from the environment (the names are in the interface spec).
public struct HQConfiguration: Sendable {
    /// Where PostgreSQL is.
    public struct DatabaseLocation: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        /// `sslmode=require` in the URL: TLS to PostgreSQL, verified against the system's CAs.
        public var requireTLS: Bool
    }

    public var database: DatabaseLocation
    public var host = "127.0.0.1"
    public var port = 8443
    /// PEM files of the server's certificate chain and key; both or neither.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// Plain HTTP, for tests only (`EDGE_HQ_ALLOW_HTTP=1`).
    public var allowHTTP = false
    /// The largest request body accepted, compressed, and the largest once decompressed.
    public var maximumBodyBytes = 8 * 1024 * 1024
    public var maximumDecompressedBytes = 64 * 1024 * 1024
    /// The most changes in one upload batch.
    public var maximumBatchRows = 5000
    /// Connections to PostgreSQL from this process.
    public var maximumConnections = 20
    /// The longest a request may take before it is answered 503 and its handler cancelled
    /// (`EDGE_HQ_REQUEST_TIMEOUT_SECONDS`): the box gives up after 30 s.
    public var requestTimeout: Duration = .seconds(30)
    /// How long recordings are kept at headquarters, in days (`EDGE_HQ_RECORDING_RETENTION_DAYS`).
    public var recordingRetentionDays = 90
    /// Where verified recording files are kept.
    public var recordingStorage = RecordingStorage.folder("./edge-hq-recordings")
    /// The 32-byte key (`EDGE_HQ_SECRETS_KEY`, base64) that seals the secrets boxes register at rest
    /// (each site's Twilio auth token); none: headquarters refuses to store them.
    public var secretsKey: [UInt8]?
    /// The https base URL Twilio reaches headquarters at (`EDGE_HQ_PUBLIC_URL`), from which the fallback
    /// URLs are made and against which Twilio's signatures are checked; none: the scheme and `Host`
    /// of the box's registration request.
    public var publicURL: URL?

    /// A folder (`EDGE_HQ_RECORDINGS_DIR`), or an S3-compatible bucket when `EDGE_HQ_S3_ENDPOINT` is set.
    public enum RecordingStorage: Sendable, Equatable, CustomStringConvertible {
        case folder(String)
        case s3(S3Location)

        public var description: String {
            switch self {
            case .folder(let path): "folder \(path)"
            case .s3(let location): "s3 \(location.endpoint.absoluteString)/\(location.bucket)"
            }
        }
    }

    /// An S3-compatible bucket and the access key to it (the secret never appears in messages).
    public struct S3Location: Sendable, Equatable {
        public var endpoint: URL
        public var bucket: String
        public var region: String
        public var accessKeyID: String
        public var secretAccessKey: String

        public init(endpoint: URL, bucket: String, region: String, accessKeyID: String, secretAccessKey: String) {
            self.endpoint = endpoint
            self.bucket = bucket
            self.region = region
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
        }
    }

    public init(database: DatabaseLocation) {
        self.database = database
    }

    /// Reads `EDGE_HQ_DATABASE_URL`, `EDGE_HQ_HTTP_HOST`, `EDGE_HQ_HTTP_PORT`, `EDGE_HQ_TLS_CERT`,
    /// `EDGE_HQ_TLS_KEY`, `EDGE_HQ_ALLOW_HTTP`, the recording store's, `EDGE_HQ_RECORDING_RETENTION_DAYS`,
    /// `EDGE_HQ_REQUEST_TIMEOUT_SECONDS`, `EDGE_HQ_SECRETS_KEY` and `EDGE_HQ_PUBLIC_URL`; a missing or bad value names the variable.
    public static func load(environment: [String: String]) throws(HQConfigurationError) -> HQConfiguration {
        guard let url = environment["EDGE_HQ_DATABASE_URL"], !url.isEmpty else {
            throw HQConfigurationError(
                "EDGE_HQ_DATABASE_URL is not set; it is postgres://user[:password]@host:port/database")
        }
        var configuration = HQConfiguration(database: try parseDatabaseURL(url))
        if let host = environment["EDGE_HQ_HTTP_HOST"], !host.isEmpty { configuration.host = host }
        if let text = environment["EDGE_HQ_HTTP_PORT"] {
            guard let port = Int(text), (0...65535).contains(port) else {
                throw HQConfigurationError("EDGE_HQ_HTTP_PORT must be a port number from 0 to 65535, not \(text)")
            }
            configuration.port = port
        }
        configuration.tlsCertificatePath = environment["EDGE_HQ_TLS_CERT"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.tlsKeyPath = environment["EDGE_HQ_TLS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if let flag = environment["EDGE_HQ_ALLOW_HTTP"] {
            guard ["0", "1", "true", "false"].contains(flag) else {
                throw HQConfigurationError("EDGE_HQ_ALLOW_HTTP must be 1 or 0, not \(flag)")
            }
            configuration.allowHTTP = flag == "1" || flag == "true"
        }
        configuration.recordingStorage = try recordingStorage(environment: environment)
        if let text = environment["EDGE_HQ_RECORDING_RETENTION_DAYS"], !text.isEmpty {
            guard let days = Int(text), (1...3650).contains(days) else {
                throw HQConfigurationError(
                    "EDGE_HQ_RECORDING_RETENTION_DAYS must be a number of days from 1 to 3650, not \(text)")
            }
            configuration.recordingRetentionDays = days
        }
        if let text = environment["EDGE_HQ_REQUEST_TIMEOUT_SECONDS"], !text.isEmpty {
            guard let seconds = Int(text), (1...600).contains(seconds) else {
                throw HQConfigurationError(
                    "EDGE_HQ_REQUEST_TIMEOUT_SECONDS must be a number of seconds from 1 to 600, not \(text)")
            }
            configuration.requestTimeout = .seconds(seconds)
        }
        if let text = environment["EDGE_HQ_SECRETS_KEY"], !text.isEmpty {
            guard let key = Data(base64Encoded: text), key.count == 32 else {
                throw HQConfigurationError(
                    "EDGE_HQ_SECRETS_KEY must be 32 random bytes in base64 (head -c 32 /dev/urandom | base64)")
            }
            configuration.secretsKey = Array(key)
        }
        if let text = environment["EDGE_HQ_PUBLIC_URL"], !text.isEmpty {
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme), url.host != nil,
                url.query == nil
            else {
                throw HQConfigurationError("EDGE_HQ_PUBLIC_URL must be https://host[:port][/path], without a query")
            }
            configuration.publicURL = url
        }
        guard (configuration.tlsCertificatePath == nil) == (configuration.tlsKeyPath == nil) else {
            throw HQConfigurationError("EDGE_HQ_TLS_CERT and EDGE_HQ_TLS_KEY go together: set both or neither")
        }
        return configuration
    }

    /// `EDGE_HQ_S3_ENDPOINT` with `EDGE_HQ_S3_BUCKET`, `EDGE_HQ_S3_ACCESS_KEY_ID`,
    /// `EDGE_HQ_S3_SECRET_ACCESS_KEY` and `EDGE_HQ_S3_REGION` (`us-east-1`); otherwise the folder
    /// `EDGE_HQ_RECORDINGS_DIR` (`./edge-hq-recordings`).
    static func recordingStorage(environment: [String: String]) throws(HQConfigurationError) -> RecordingStorage {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let endpointText = value("EDGE_HQ_S3_ENDPOINT") else {
            return .folder(value("EDGE_HQ_RECORDINGS_DIR") ?? "./edge-hq-recordings")
        }
        guard let endpoint = URL(string: endpointText), ["http", "https"].contains(endpoint.scheme),
            endpoint.host != nil, endpoint.path.isEmpty || endpoint.path == "/"
        else {
            throw HQConfigurationError("EDGE_HQ_S3_ENDPOINT must be http(s)://host[:port], without a path")
        }
        var missing: [String] = []
        for name in ["EDGE_HQ_S3_BUCKET", "EDGE_HQ_S3_ACCESS_KEY_ID", "EDGE_HQ_S3_SECRET_ACCESS_KEY"]
        where value(name) == nil {
            missing.append(name)
        }
        guard missing.isEmpty else {
            throw HQConfigurationError("EDGE_HQ_S3_ENDPOINT is set, so \(missing.joined(separator: ", ")) must be too")
        }
        let bucket = value("EDGE_HQ_S3_BUCKET")!
        guard (3...63).contains(bucket.count),
            bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") })
        else {
            throw HQConfigurationError("EDGE_HQ_S3_BUCKET must be 3 to 63 lowercase letters, digits, - or .")
        }
        return .s3(
            S3Location(
                endpoint: endpoint, bucket: bucket, region: value("EDGE_HQ_S3_REGION") ?? "us-east-1",
                accessKeyID: value("EDGE_HQ_S3_ACCESS_KEY_ID")!,
                secretAccessKey: value("EDGE_HQ_S3_SECRET_ACCESS_KEY")!))
    }

    /// `postgres://user[:password]@host[:port]/database[?sslmode=require]`; the password is
    /// percent-decoded and never appears in an error.
    public static func parseDatabaseURL(_ text: String) throws(HQConfigurationError) -> DatabaseLocation {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty
        else {
            throw HQConfigurationError(
                "EDGE_HQ_DATABASE_URL is not a postgres://user[:password]@host:port/database URL")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else {
            throw HQConfigurationError("EDGE_HQ_DATABASE_URL names no database (…/DATABASE at the end)")
        }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value
        guard mode == nil || ["disable", "require"].contains(mode) else {
            throw HQConfigurationError("EDGE_HQ_DATABASE_URL: sslmode must be disable or require")
        }
        return DatabaseLocation(
            host: host, port: components.port ?? 5432, username: components.user ?? user,
            password: components.password?.removingPercentEncoding ?? components.password,
            database: database, requireTLS: mode == "require")
    }
}

/// A setting `edge-hq` cannot start with; the message names the variable.
public struct HQConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
