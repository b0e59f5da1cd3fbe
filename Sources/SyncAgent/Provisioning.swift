import Foundation
public import Logging

/// `edge-agent provision`: enrols this box at headquarters with a one-time token. The box makes its
/// own key pair under `EDGE_DATA_DIR/secrets` (the private key never leaves it), registers the public
/// key, and stores headquarters' URL, the site and the CA certificate for `serve` and `sync`.
public enum Provisioning {
    /// Enrols the box; an enrolled box is refused unless `force` (which makes a new key pair).
    public static func provision(
        dataDirectory: String, headquartersURL: String, token: String, caCertificatePEM: String?, name: String,
        force: Bool, logger: Logger
    ) async throws(SyncError) -> HeadquartersLink {
        if let existing = try HeadquartersLink.load(dataDirectory: dataDirectory), !force {
            throw SyncError(
                .refused,
                "this box is enrolled already (device \(existing.deviceID), site \(existing.siteName)); --force enrols it again with a new key"
            )
        }
        if force { try? FileManager.default.removeItem(atPath: DeviceIdentity.path(dataDirectory: dataDirectory)) }
        let identity = try DeviceIdentity.loadOrCreate(dataDirectory: dataDirectory)
        let client = try SyncClient(baseURL: headquartersURL, caCertificatePEM: caCertificatePEM, logger: logger)
        let answer: EnrolmentOutcome
        do {
            let response = try await client.enrol(token: token, identity: identity, name: name)
            answer = .init(deviceID: response.deviceID, siteID: response.siteID, siteName: response.siteName)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        let link = HeadquartersLink(
            url: headquartersURL, deviceID: answer.deviceID, siteID: answer.siteID, siteName: answer.siteName,
            caCertificatePEM: caCertificatePEM)
        try link.save(dataDirectory: dataDirectory)
        return link
    }

    private struct EnrolmentOutcome {
        var deviceID: String
        var siteID: String
        var siteName: String
    }
}
