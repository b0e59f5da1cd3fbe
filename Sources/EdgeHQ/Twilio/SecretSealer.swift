import Crypto
import Foundation

/// Seals the short secrets boxes register (a site's Twilio auth token) with ChaChaPoly under
/// `EDGE_HQ_SECRETS_KEY`, bound to the row they belong to, so a sealed token copied to another
/// site's row does not open.
struct SecretSealer: Sendable {
    let key: SymmetricKey

    init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// The nonce, ciphertext and tag of `secret`.
    func seal(_ secret: String, boundTo context: String) throws -> [UInt8] {
        let box = try ChaChaPoly.seal(Data(secret.utf8), using: key, authenticating: Data(context.utf8))
        return Array(box.combined)
    }

    /// The secret `seal` made; throws for another key, another context or damaged bytes.
    func open(_ sealed: [UInt8], boundTo context: String) throws -> String {
        let box = try ChaChaPoly.SealedBox(combined: Data(sealed))
        return String(decoding: try ChaChaPoly.open(box, using: key, authenticating: Data(context.utf8)), as: UTF8.self)
    }
}
