import CloudAccountDoubles
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// `provisioning/install.sh` and `uninstall.sh` as a technician runs them, against a real
/// headquarters on PostgreSQL and Twilio's REST stand-in, installing this run's package into a
/// throwaway root (`EDGE_INSTALL_ROOT`: the package through `dpkg --root`, systemd left alone, as no
/// test may touch the host's).
@Suite("install.sh and uninstall.sh", .serialized)
struct InstallScriptTests {
    typealias Line = CommandLineSyncTests
    static let accountSID = "AC" + String(repeating: "b2", count: 16)
    static let authToken = "install-test-token-77d1"
    static let number = "+15557650000"
    static let publicURL = "https://casa-lupe.example.com"
    static let elevenLabsKey = "xi-install-test-key"

    static func script(_ name: String) -> URL {
        DebianPackageBuild.sourceFolder.appendingPathComponent("provisioning/\(name)")
    }

    /// Every path under `root` with its mode, and for a file its size and hash; the database and its
    /// WAL, which any command that opens them may checkpoint, by name only.
    static func snapshot(_ root: String) throws -> [String: String] {
        var entries: [String: String] = [:]
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: root) else { return [:] }
        while let path = walker.nextObject() as? String {
            let full = "\(root)/\(path)"
            let attributes = try manager.attributesOfItem(atPath: full)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
            let owner = (attributes[.ownerAccountID] as? NSNumber)?.intValue ?? -1
            var entry = "mode \(String(mode, radix: 8)) owner \(owner)"
            if attributes[.type] as? FileAttributeType == .typeRegular, !path.contains("edge.sqlite") {
                let data = try Data(contentsOf: URL(fileURLWithPath: full))
                entry += " sha256 \(SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined())"
            }
            entries[path] = entry
        }
        return entries
    }

    /// A loopback port nothing listens on (bound and released).
    static func freePort() throws -> Int {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw DebianPackageBuild.Failed(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Setup {
        var root: String
        var package: String
        var hqURL: String
        var token: String
        var secrets: String
        var port: Int

        func arguments(
            hq: String? = nil, token: String? = nil, number: String = InstallScriptTests.number, port: Int? = nil
        ) -> [String] {
            [
                "--hq", hq ?? hqURL, "--token", token ?? self.token, "--public-url", InstallScriptTests.publicURL,
                "--twilio-sid", InstallScriptTests.accountSID, "--twilio-number", number, "--secrets", secrets,
                "--port", String(port ?? self.port), "--package", package,
            ]
        }

        var environment: [String: String] {
            ["EDGE_INSTALL_ROOT": root, "TWILIO_AUTH_TOKEN": InstallScriptTests.authToken]
        }
    }

    /// Headquarters with a site, a token for it, Twilio's stand-in holding the number, this run's
    /// package and an empty root, while `body` runs.
    static func withSetup(_ body: @Sendable (Setup, HQHarness, TwilioPhoneNumbersDouble) async throws -> Void)
        async throws
    {
        let package = try await DebianPackageBuild.shared.package(version: "0.1.0")
        let twilio = TwilioPhoneNumbersDouble(
            accountSID: accountSID, authToken: authToken, numbers: [number: "https://old.example.com/voice"])
        try await HQHarness.with { hq in
            let site = try await hq.directory.addSite(name: "Casa Lupe")
            let (token, _) = try await hq.directory.makeEnrolmentToken(site: site.id, validFor: .seconds(3600))
            try await hq.serve { hqURL in
                try await Self.withCloud(twilio) { cloudURL in
                    let root = try DebianPackageTests.makeRoot()
                    defer { try? FileManager.default.removeItem(atPath: root) }
                    let secrets = root + ".secrets.env"
                    defer { try? FileManager.default.removeItem(atPath: secrets) }
                    // The keys, and settings a technician would put in config.yaml: the stand-ins' address.
                    try """
                    TWILIO_API_BASE_URL=\(cloudURL)
                    ELEVENLABS_BASE_URL=\(cloudURL)
                    ELEVENLABS_API_KEY=\(elevenLabsKey)
                    EDGE_VOICE_EN=voice-en
                    EDGE_VOICE_ES=voice-es
                    EDGE_MINIMUM_FREE_DISK_MB=1

                    """.write(toFile: secrets, atomically: true, encoding: .utf8)
                    let setup = Setup(
                        root: root, package: package, hqURL: hqURL, token: token, secrets: secrets,
                        port: try freePort())
                    try await body(setup, hq, twilio)
                }
            }
        }
    }

    /// Twilio's REST, ElevenLabs' key check and a voice (the demo's) on one loopback port while `body` runs.
    static func withCloud(
        _ twilio: TwilioPhoneNumbersDouble, _ body: @Sendable (String) async throws -> Void
    ) async throws {
        let router = Router()
        twilio.register(on: router)
        ProviderAccountsDouble(.elevenLabs(key: elevenLabsKey, models: ["eleven_flash_v2_5"])).register(on: router)
        // ElevenLabs' streaming speech as mu-law at 8 kHz: a square-wave tone, 300 ms plus 90 ms a word.
        router.post("/v1/text-to-speech/:voice/stream") { request, _ -> Response in
            guard request.headers[HTTPField.Name("xi-api-key")!] == elevenLabsKey else {
                return Response(status: .unauthorized)
            }
            let body = try await request.body.collect(upTo: 1 << 20)
            let text =
                (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["text"] as? String
            let samples = 2400 + 720 * (text ?? "").split(separator: " ").count
            let audio = (0..<samples).map { $0 / 10 % 2 == 0 ? UInt8(0x9F) : UInt8(0x1F) }
            return Response(
                status: .ok, headers: [.contentType: "audio/basic"], body: .init(byteBuffer: ByteBuffer(bytes: audio)))
        }
        try await Application(router: router).test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }

    static func install(_ arguments: [String], _ environment: [String: String]) async throws -> Line.Outcome {
        try await ChildProcess.run(script("install.sh"), arguments, environment: environment)
    }

    @Test(
        "a refused token, an unreachable headquarters, a port in use, another account's number, a bad flag: one line, exit 1, nothing changed"
    )
    func refusals() async throws {
        try await Self.withSetup { setup, hq, twilio in
            let before = try Self.snapshot(setup.root)

            let wrongToken = try await Self.install(setup.arguments(token: "et_not-a-token"), setup.environment)
            #expect(wrongToken.status == 1)
            #expect(wrongToken.standardError.hasPrefix("install: enrolment refused: "), "\(wrongToken.standardError)")
            #expect(wrongToken.standardError.split(separator: "\n").count == 1, "\(wrongToken.standardError)")
            #expect(!wrongToken.standardError.contains("et_not-a-token"))

            let unreachable = try await Self.install(
                setup.arguments(hq: "http://127.0.0.1:\(try Self.freePort())"), setup.environment)
            #expect(unreachable.status == 1)
            #expect(
                unreachable.standardError.hasPrefix("install: cannot reach headquarters at http://127.0.0.1:"),
                "\(unreachable.standardError)")
            #expect(unreachable.standardError.split(separator: "\n").count == 1)

            let hqPort = try #require(Int(setup.hqURL.split(separator: ":").last ?? ""))
            let busy = try await Self.install(setup.arguments(port: hqPort), setup.environment)
            #expect(busy.status == 1)
            #expect(busy.standardError.hasPrefix("install: port \(hqPort) is in use"), "\(busy.standardError)")
            #expect(busy.standardError.hasSuffix("; stop it or give --port N\n"))

            let otherNumber = try await Self.install(setup.arguments(number: "+15559990000"), setup.environment)
            #expect(otherNumber.status == 1)
            #expect(
                otherNumber.standardError
                    == "install: +15559990000 is not a number of Twilio account \(Self.accountSID): check the number and --twilio-sid\n"
            )

            var noToken = setup.environment
            noToken["TWILIO_AUTH_TOKEN"] = nil
            let missingSecret = try await Self.install(setup.arguments(), noToken)
            #expect(
                missingSecret.standardError
                    == "install: --twilio-number needs TWILIO_AUTH_TOKEN, in the environment or in --secrets FILE\n")

            let badURL = try await Self.install(
                setup.arguments() + ["--public-url", "casa-lupe.example.com"], setup.environment)
            #expect(badURL.standardError == "install: --public-url 'casa-lupe.example.com' is not an http(s):// URL\n")

            let unknown = try await Self.install(setup.arguments() + ["--yes"], setup.environment)
            #expect(unknown.status == 2)
            #expect(unknown.standardError.hasPrefix("install: unknown argument '--yes'\nusage: "))

            #expect(try Self.snapshot(setup.root) == before)
            #expect(try await hq.count("devices") == 0)
            #expect(twilio.updates.withLockedValue { $0.count } == 0)
            #expect(twilio.number(Self.number)?["voice_url"] == "https://old.example.com/voice")
        }
    }

    @Test("--dry-run checks everything, prints each step it would take, and changes nothing")
    func dryRun() async throws {
        try await Self.withSetup { setup, hq, twilio in
            let before = try Self.snapshot(setup.root)
            let dry = try await Self.install(setup.arguments() + ["--dry-run"], setup.environment)
            #expect(dry.status == 0, "\(dry.standardError)")
            let steps = dry.standardOutput.split(separator: "\n").filter { $0.hasPrefix("[") }
            #expect(
                steps == [
                    "[ 1/10] check the box, the flags and what the install needs",
                    "[ 2/10] stage the package and the configuration, checked by the new program",
                    "[ 3/10] enrol at headquarters", "[ 4/10] install the package",
                    "[ 5/10] put the enrolment in the data folder", "[ 6/10] write the configuration",
                    "[ 7/10] point the Twilio number at this box", "[ 8/10] warm the phrase cache",
                    "[ 9/10] start the service", "[10/10] doctor",
                ], "\(dry.standardOutput)")
            for line in [
                "would run: edge-agent provision --hq \(setup.hqURL) --token ******",
                "would install edge-agent 0.1.0 (installed: none)", "would write config.yaml secrets.env",
                "would run: edge-agent provision --twilio-number \(Self.number)", "would run: edge-agent cache warm",
                "would run: edge-agent doctor",
            ] {
                #expect(dry.standardOutput.contains(line), "\(line)\n\(dry.standardOutput)")
            }
            #expect(!dry.standardOutput.contains(setup.token))
            #expect(!dry.standardOutput.contains(Self.authToken))
            #expect(try Self.snapshot(setup.root) == before)
            #expect(try await hq.count("devices") == 0)
            #expect(twilio.updates.withLockedValue { $0.count } == 0)
        }
    }

    @Test(
        "installs, enrols, configures, points the number, warms and ends with the doctor; a second run changes nothing; uninstall keeps the data, --purge deletes it"
    )
    func installTwiceThenUninstall() async throws {
        try await Self.withSetup { setup, hq, twilio in
            let first = try await Self.install(setup.arguments(), setup.environment)
            #expect(first.status == 0, "\(first.standardOutput)\n\(first.standardError)")
            let root = setup.root
            let manager = FileManager.default
            #expect(manager.isExecutableFile(atPath: "\(root)/opt/edge-agent/bin/edge-agent"))
            #expect(try await hq.count("devices") == 1)
            let config = try String(contentsOfFile: "\(root)/etc/edge-agent/config.yaml", encoding: .utf8)
            #expect(config.contains("\npublic_url: \(Self.publicURL)\n"), "\(config)")
            #expect(config.contains("\nhttp:\n  host: 0.0.0.0\n  port: \(setup.port)\n"), "\(config)")
            let secrets = try String(contentsOfFile: "\(root)/etc/edge-agent/secrets.env", encoding: .utf8)
            #expect(secrets.split(separator: "\n").contains("TWILIO_AUTH_TOKEN=\(Self.authToken)"))
            #expect(secrets.split(separator: "\n").contains("TWILIO_ACCOUNT_SID=\(Self.accountSID)"))
            #expect(try DebianPackageTests.mode("\(root)/etc/edge-agent/secrets.env") == 0o600)
            // The enrolment was staged and moved into place, owned by the service's user.
            let data = "\(root)/var/lib/edge-agent"
            #expect(!manager.fileExists(atPath: data + ".install-staging"))
            #expect(try DebianPackageTests.mode(data) == 0o750)
            let passwd = try String(contentsOfFile: "\(root)/etc/passwd", encoding: .utf8)
            let uid = try #require(
                passwd.split(separator: "\n").first { $0.hasPrefix("edge-agent:") }.map {
                    Int($0.split(separator: ":")[2])
                } ?? nil)
            #expect(try DebianPackageTests.owner("\(data)/edge.sqlite") == uid)
            let status = try await ChildProcess.run(
                URL(fileURLWithPath: "\(root)/opt/edge-agent/bin/edge-agent"), ["sync", "status"],
                environment: ["EDGE_DATA_DIR": data])
            #expect(status.standardOutput.hasPrefix("headquarters: \(setup.hqURL) (site Casa Lupe"), "\(status)")
            // The number calls the box and falls back to headquarters.
            #expect(twilio.number(Self.number)?["voice_url"] == "\(Self.publicURL)/twilio/voice")
            #expect(
                twilio.number(Self.number)?["voice_fallback_url"]?.hasPrefix("\(setup.hqURL)/v1/twilio/fallback/")
                    == true)
            // The doctor's table ends the run: headquarters accepts the key, the number is right.
            #expect(first.standardOutput.contains("[10/10] doctor"))
            #expect(first.standardOutput.contains("device key accepted, site Casa Lupe"), "\(first.standardOutput)")
            #expect(first.standardOutput.contains("\(Self.number) calls this box"), "\(first.standardOutput)")
            #expect(!first.standardOutput.contains(Self.authToken) && !first.standardError.contains(Self.authToken))
            // Every phrase of the catalog was fetched once (the progress bar is on standard error).
            let warmed = try #require(
                first.standardOutput.split(separator: "\n").first { $0.hasSuffix(" failed") }, "\(first.standardOutput)"
            )
            #expect(warmed.contains(" phrases: 0 already cached, ") && warmed.hasSuffix(", 0 failed"), "\(warmed)")
            #expect(first.standardError.contains("] 0/"), "the progress bar: \(first.standardError)")
            for language in ["en", "es"] {
                #expect(first.standardOutput.contains("PASS  phrase cache \(language)  100% warm in \(language)"))
            }
            let updates = twilio.updates.withLockedValue { $0.count }

            let before = try Self.snapshot(root)
            let second = try await Self.install(setup.arguments(), setup.environment)
            #expect(second.status == 0, "\(second.standardOutput)\n\(second.standardError)")
            for line in [
                "already enrolled at \(setup.hqURL): unchanged", "edge-agent 0.1.0 is installed: unchanged",
                "config.yaml and secrets.env: unchanged", "under EDGE_INSTALL_ROOT: systemd left alone",
            ] {
                #expect(second.standardOutput.contains(line), "\(line)\n\(second.standardOutput)")
            }
            #expect(second.standardOutput.contains(" 0 fetched (Zero KB), 0 failed\n"), "\(second.standardOutput)")
            #expect(try Self.snapshot(root) == before)
            #expect(try await hq.count("devices") == 1)
            // Twilio is only asked how the number stands: nothing is set again.
            #expect(second.standardOutput.contains("\(Self.number) calls this box already: unchanged"))
            #expect(twilio.updates.withLockedValue { $0.count } == updates)

            let uninstallEnvironment = ["EDGE_INSTALL_ROOT": root]
            let remove = try await ChildProcess.run(
                Self.script("uninstall.sh"), [], environment: uninstallEnvironment)
            #expect(remove.status == 0, "\(remove.standardError)")
            #expect(remove.standardOutput.hasPrefix("uninstall: edge-agent removed; kept \(data)"))
            #expect(!manager.fileExists(atPath: "\(root)/opt/edge-agent/bin/edge-agent"))
            #expect(manager.fileExists(atPath: "\(data)/edge.sqlite"))
            #expect(manager.fileExists(atPath: "\(root)/etc/edge-agent/secrets.env"))

            let purge = try await ChildProcess.run(
                Self.script("uninstall.sh"), ["--purge"], environment: uninstallEnvironment)
            #expect(purge.status == 0, "\(purge.standardError)")
            #expect(purge.standardOutput == "uninstall: edge-agent purged; its data and configuration are deleted\n")
            #expect(!manager.fileExists(atPath: data))
            #expect(!manager.fileExists(atPath: "\(root)/etc/edge-agent"))
            let again = try await ChildProcess.run(
                Self.script("uninstall.sh"), ["--purge"], environment: uninstallEnvironment)
            #expect(again.status == 0)
            #expect(again.standardOutput == "uninstall: edge-agent is not installed\n")
        }
    }
}
