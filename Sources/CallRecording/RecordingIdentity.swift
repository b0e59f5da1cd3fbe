import CSodium
import Foundation

/// The owner's X25519 key pair for recordings. The private half is made on the owner's computer
/// (`edge-agent keys generate`), kept off the box, and given only to `recordings decrypt`.
///
/// Identity file (text, mode 0600):
///
/// ```
/// edge-agent recording identity v1
/// public <base64 of the 32-byte public key>
/// secret <base64 of the 32-byte secret key>
/// ```
public struct RecordingIdentity: Sendable {
    public let publicKey: [UInt8]
    private let secretKey: [UInt8]

    static let firstLine = "edge-agent recording identity v1"

    /// A new key pair from libsodium.
    public static func generate() throws -> RecordingIdentity {
        guard sodium_init() >= 0 else { throw RecordingFileError(.sodium, "libsodium could not start") }
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_box_publickeybytes()))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_box_secretkeybytes()))
        crypto_box_keypair(&publicKey, &secretKey)
        return RecordingIdentity(publicKey: publicKey, secretKey: secretKey)
    }

    init(publicKey: [UInt8], secretKey: [UInt8]) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The public key as configured on boxes (`EDGE_RECORDING_PUBLIC_KEY`).
    public var publicKeyBase64: String { Data(publicKey).base64EncodedString() }

    /// The identity file's text.
    public var fileText: String {
        "\(Self.firstLine)\npublic \(publicKeyBase64)\nsecret \(Data(secretKey).base64EncodedString())\n"
    }

    /// Reads an identity file's text, checking that the two halves belong together.
    public init(fileText: String) throws {
        let lines = fileText.split(whereSeparator: \.isNewline).map(String.init)
        guard lines.first == Self.firstLine else {
            throw RecordingFileError(
                .badIdentity, "this is not an identity file made by `edge-agent keys generate` (first line)")
        }
        func field(_ name: String) -> [UInt8]? {
            lines.first { $0.hasPrefix(name + " ") }.flatMap {
                Data(base64Encoded: String($0.dropFirst(name.count + 1)))
            }
            .map { [UInt8]($0) }
        }
        guard let publicKey = field("public"), publicKey.count == 32, let secretKey = field("secret"),
            secretKey.count == 32
        else { throw RecordingFileError(.badIdentity, "the identity file's keys are missing or not 32 bytes") }
        var derived = [UInt8](repeating: 0, count: 32)
        _ = crypto_scalarmult_base(&derived, secretKey)
        guard derived == publicKey else {
            throw RecordingFileError(.badIdentity, "the identity file's public and secret keys do not belong together")
        }
        self.init(publicKey: publicKey, secretKey: secretKey)
    }

    /// Parses a configured public key (base64, 32 bytes).
    public static func publicKey(base64: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: base64), data.count == 32 else {
            throw RecordingFileError(
                .badIdentity,
                "the recording public key is not 32 bytes of base64; make one with `edge-agent keys generate`")
        }
        return [UInt8](data)
    }

    func withSecretKey<T>(_ body: (UnsafePointer<UInt8>) -> T) -> T {
        secretKey.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
