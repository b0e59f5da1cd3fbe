public import Crypto
import DurableFiles
import Foundation
import TwilioWire

/// Per-call secrets that authenticate a Media Stream: the TwiML hands Twilio `HMAC(key, call id)` as a
/// `<Parameter>`, and the stream's `start` message must bring it back.
///
/// Derived rather than stored, so a repeated webhook for the same call gets the same TwiML, and a
/// leaked database does not hold live tokens. The key lives in `EDGE_DATA_DIR/secrets/stream-token.key`
/// (mode 0600), created on first start.
public struct StreamTokens: Sendable {
    private let key: SymmetricKey

    /// Uses `key` directly (tests).
    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Loads the key from the data folder, creating it on first start.
    public static func load(dataDirectory: String) throws -> StreamTokens {
        let folder = (dataDirectory as NSString).appendingPathComponent("secrets")
        let path = (folder as NSString).appendingPathComponent("stream-token.key")
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            // Present but unreadable must fail: making a new key would break every call in progress.
            guard let data = manager.contents(atPath: path) else {
                throw StartupError("cannot read \(path): check that it belongs to the agent's user")
            }
            guard data.count == 32 else {
                throw StartupError(
                    "\(path) is damaged (expected 32 bytes); delete it to make a new one (calls in progress will drop)")
            }
            return StreamTokens(key: SymmetricKey(data: data))
        }
        do {
            try manager.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let key = SymmetricKey(size: .bits256)
            let data = key.withUnsafeBytes { Data($0) }
            // Written aside, flushed to disk, then renamed: a crash never leaves a short key under the real name.
            do {
                try DurableFile.write(Array(data), to: path, permissions: 0o600)
            } catch {
                throw StartupError("\(error): check that \(folder) belongs to the agent's user")
            }
            return StreamTokens(key: key)
        } catch let error as StartupError {
            throw error
        } catch {
            throw StartupError("cannot create \(path): check that \(dataDirectory) belongs to the agent's user")
        }
    }

    /// The token of call `callID`.
    public func token(callID: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(callID.utf8), using: key)
        return Data(code).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether `token` belongs to `callID`, compared in constant time.
    public func isValid(_ token: String, callID: String) -> Bool {
        TwilioSignature.constantTimeEquals(Data(self.token(callID: callID).utf8), Data(token.utf8))
    }
}
