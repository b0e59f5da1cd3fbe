import CSodium
import Foundation

/// The hashes behind ``AdminTokens``, through libsodium: a SHA-256 for bearer tokens (long random
/// secrets, looked up by their hash) and Argon2id (`crypto_pwhash_str`) for short PINs.
enum SecretHashing {
    /// Starts libsodium once; `sodium_init` is thread-safe and returns 1 when already started.
    private static let started: Bool = sodium_init() >= 0

    static func requireStarted() throws {
        guard started else {
            throw AdminTokenError(.crypto, "libsodium could not start; reinstall libsodium23 and try again")
        }
    }

    /// `count` random bytes from the kernel's generator.
    static func randomBytes(_ count: Int) throws -> [UInt8] {
        try requireStarted()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return bytes
    }

    /// The lowercase hex SHA-256 of `text`'s UTF-8 bytes.
    static func sha256Hex(_ text: String) throws -> String {
        try requireStarted()
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_bytes()))
        let input = Array(text.utf8)
        let status = input.withUnsafeBufferPointer { source in
            crypto_hash_sha256(&digest, source.baseAddress, UInt64(source.count))
        }
        guard status == 0 else { throw AdminTokenError(.crypto, "SHA-256 failed in libsodium") }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// An Argon2id hash of `secret` with a random salt, in libsodium's self-describing string form
    /// (`$argon2id$v=19$m=...`), at libsodium's "interactive" cost (64 MiB, a fraction of a second).
    static func slowHash(_ secret: String) throws -> String {
        try requireStarted()
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_strbytes()))
        let status = secret.withCString { source in
            crypto_pwhash_str(
                &output, source, UInt64(secret.utf8.count), UInt64(crypto_pwhash_opslimit_interactive()),
                crypto_pwhash_memlimit_interactive())
        }
        guard status == 0 else {
            throw AdminTokenError(.crypto, "the PIN could not be hashed (out of memory?); free memory and try again")
        }
        return output.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Whether `secret` matches `hash` from ``slowHash(_:)``; libsodium compares in constant time.
    static func verifySlowHash(_ secret: String, hash: String) -> Bool {
        guard (try? requireStarted()) != nil else { return false }
        var stored = Array(hash.utf8CString)
        guard stored.count <= Int(crypto_pwhash_strbytes()) else { return false }
        stored += [CChar](repeating: 0, count: Int(crypto_pwhash_strbytes()) - stored.count)
        return secret.withCString { source in
            crypto_pwhash_str_verify(&stored, source, UInt64(secret.utf8.count)) == 0
        }
    }

    /// A well-formed hash of a secret nobody knows, verified against when there is no stored hash so
    /// that a wrong name takes as long as a wrong PIN.
    static let decoyHash: String = (try? slowHash(base64URL((try? randomBytes(16)) ?? []))) ?? ""

    /// One slow hash at a time, on a thread of its own: Argon2id takes a fraction of a second and
    /// 64 MiB, which must neither hold one of the few cooperative threads the calls' audio runs on nor
    /// multiply with simultaneous logins.
    private static let slowQueue = DispatchQueue(label: "edge.admin-tokens.slow-hash")

    /// Runs `body` on ``slowQueue`` and waits for it without blocking the caller's thread.
    static func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            slowQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Base64url without padding (RFC 4648 section 5).
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
