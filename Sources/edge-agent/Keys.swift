import ArgumentParser
import CallRecording
import Foundation

/// `edge-agent keys generate --out FILE`: the owner's recording key pair.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The owner's recording keys.", subcommands: [Generate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the owner's key pair; prints the public key to set as EDGE_RECORDING_PUBLIC_KEY.",
            discussion: """
                Run it on the owner's computer, not on the box: the private key (the identity file, mode 0600) \
                is what decrypts recordings. It never overwrites a file.
                """)

        @Option(name: .long, help: "Where to write the identity (private key) file.")
        var out: String

        func run() async throws {
            let identity: RecordingIdentity
            do {
                identity = try RecordingIdentity.generate()
            } catch {
                throw fail("\(error)", code: 1)
            }
            let descriptor = open(out, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard descriptor >= 0 else {
                throw fail(
                    "cannot create \(out): \(String(cString: strerror(errno))) (it is never overwritten)", code: 1)
            }
            let text = Array(identity.fileText.utf8)
            let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, text.count) }
            let synced = fsync(descriptor)
            close(descriptor)
            guard written == text.count, synced == 0 else {
                unlink(out)
                throw fail("cannot write \(out): \(String(cString: strerror(errno)))", code: 1)
            }
            print("identity written to \(out) (keep it off the box; it decrypts every recording)")
            print("public key, for EDGE_RECORDING_PUBLIC_KEY:")
            print(identity.publicKeyBase64)
        }
    }
}
