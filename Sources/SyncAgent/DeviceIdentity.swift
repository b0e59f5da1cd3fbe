public import Crypto
import Foundation

/// The box's own Ed25519 key pair, made on the box at enrolment and kept in
/// `EDGE_DATA_DIR/secrets/device.key` (mode 0600); the private key never leaves the box. Every
/// request to headquarters is signed with it (``RequestSigner``).
public struct DeviceIdentity: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey

    public var publicKeyBase64: String { privateKey.publicKey.rawRepresentation.base64EncodedString() }

    static let header = "EDGE-DEVICE-KEY-1"

    public init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
    }

    /// The key file's path under a data directory.
    public static func path(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("secrets/device.key")
    }

    /// Reads the key, or makes and stores a new one when there is none yet.
    public static func loadOrCreate(dataDirectory: String) throws(SyncError) -> DeviceIdentity {
        if let existing = try load(dataDirectory: dataDirectory) { return existing }
        let identity = DeviceIdentity(privateKey: Curve25519.Signing.PrivateKey())
        let path = path(dataDirectory: dataDirectory)
        let text = "\(header)\n\(identity.privateKey.rawRepresentation.base64EncodedString())\n"
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw SyncError(.storage, "cannot create \((path as NSString).deletingLastPathComponent): \(error)")
        }
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw SyncError(.storage, "cannot write the device key \(path)") }
        return identity
    }

    /// The stored key, nil when there is none; a damaged file is an error naming it.
    public static func load(dataDirectory: String) throws(SyncError) -> DeviceIdentity? {
        let path = path(dataDirectory: dataDirectory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard lines.count == 2, lines[0] == header, let raw = Data(base64Encoded: String(lines[1])),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw SyncError(.storage, "the device key \(path) is damaged; enrol the box again (edge-agent provision)")
        }
        return DeviceIdentity(privateKey: key)
    }
}
