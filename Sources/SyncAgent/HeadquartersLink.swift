import DurableFiles
import Foundation

/// What enrolment stored about headquarters: its URL, the box's device id and site, and the CA
/// certificate to trust for it (PEM), in `EDGE_DATA_DIR/secrets/headquarters.json` (0600).
/// `EDGE_HQ_URL` overrides the URL.
public struct HeadquartersLink: Codable, Sendable, Equatable {
    public var url: String
    public var deviceID: String
    public var siteID: String
    public var siteName: String
    /// PEM of the CA that signed headquarters' certificate, when it is not a public one.
    public var caCertificatePEM: String?

    public init(url: String, deviceID: String, siteID: String, siteName: String, caCertificatePEM: String?) {
        self.url = url
        self.deviceID = deviceID
        self.siteID = siteID
        self.siteName = siteName
        self.caCertificatePEM = caCertificatePEM
    }

    enum CodingKeys: String, CodingKey {
        case url
        case deviceID = "device_id"
        case siteID = "site_id"
        case siteName = "site_name"
        case caCertificatePEM = "ca_certificate_pem"
    }

    public static func path(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("secrets/headquarters.json")
    }

    /// The stored link, nil before enrolment; `urlOverride` (`EDGE_HQ_URL`) replaces the URL.
    public static func load(dataDirectory: String, urlOverride: String? = nil) throws(SyncError) -> HeadquartersLink? {
        let path = path(dataDirectory: dataDirectory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard var link = try? JSONDecoder().decode(HeadquartersLink.self, from: data) else {
            throw SyncError(.storage, "\(path) is damaged; enrol the box again (edge-agent provision)")
        }
        if let urlOverride { link.url = urlOverride }
        return link
    }

    public func save(dataDirectory: String) throws(SyncError) {
        let path = Self.path(dataDirectory: dataDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { throw SyncError(.storage, "cannot encode the link") }
        do {
            try DurableFile.write(Array(data), to: path, permissions: 0o600)
        } catch {
            throw SyncError(.storage, "\(error)")
        }
    }
}
