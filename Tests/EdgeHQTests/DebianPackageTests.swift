import Foundation
import TestSupport
import Testing

/// The box's Debian package, built by `provisioning/build-deb.sh` from the programs this test run
/// built, once per version per run. (Here rather than beside the agent's tests because the install
/// script's tests, which need headquarters on PostgreSQL, install the same package.)
actor DebianPackageBuild {
    static let shared = DebianPackageBuild()
    static let sourceFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    private var built: [String: Task<String, any Error>] = [:]
    private let output = NSTemporaryDirectory() + "edge-agent-debs-" + UUID().uuidString

    /// The path of `edge-agent_<version>_<arch>.deb`.
    func package(version: String) async throws -> String {
        if let task = built[version] { return try await task.value }
        let output = output
        let task = Task<String, any Error> {
            let binaries = CommandLineSyncTests.binary("edge-agent").deletingLastPathComponent().path
            // gzip at its fastest level: the debug program is large (lintian refuses no compression).
            let result = try await ChildProcess.run(
                Self.sourceFolder.appendingPathComponent("provisioning/build-deb.sh"),
                ["--binary-dir", binaries, "--version", version, "--output", output, "--compression", "gzip"],
                environment: [:], in: Self.sourceFolder.path)
            guard result.status == 0, let path = result.standardOutput.split(separator: "\n").last else {
                throw Failed(description: "build-deb.sh failed: \(result.standardError)")
            }
            return String(path)
        }
        built[version] = task
        return try await task.value
    }
}

/// `make deb`'s package, checked as Debian would (lintian, dpkg-deb) and installed, upgraded, removed
/// and purged by dpkg in a throwaway root (`dpkg --root` with the maintainer scripts run outside a
/// chroot, so the tests need no debootstrap and no second system).
@Suite("the Debian package", .serialized)
struct DebianPackageTests {
    typealias Line = CommandLineSyncTests

    /// A tool from Debian's packages, which CI installs (`install-build-deps.sh --test`).
    static func tool(_ name: String) throws -> URL {
        for folder in ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
        where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return URL(fileURLWithPath: "\(folder)/\(name)")
        }
        throw DebianPackageBuild.Failed(
            description: "\(name) is missing: run provisioning/install-build-deps.sh --test")
    }

    static func dpkg(_ root: String, _ arguments: [String]) async throws -> ChildProcess.Outcome {
        try await ChildProcess.run(
            try tool("dpkg"),
            ["--root=\(root)", "--force-script-chrootless", "--force-depends", "--force-not-root"] + arguments,
            environment: [:])
    }

    /// An empty root with the dpkg database and the account files a fresh Debian system has.
    static func makeRoot() throws -> String {
        let root = NSTemporaryDirectory() + "deb-root-" + UUID().uuidString
        let manager = FileManager.default
        for folder in ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"] {
            try manager.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        #expect(manager.createFile(atPath: "\(root)/var/lib/dpkg/status", contents: Data()))
        try "root:x:0:0:root:/root:/bin/bash\n".write(toFile: "\(root)/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\n".write(toFile: "\(root)/etc/group", atomically: true, encoding: .utf8)
        try "root:*:20000:0:99999:7:::\n".write(toFile: "\(root)/etc/shadow", atomically: true, encoding: .utf8)
        try "root:*::\n".write(toFile: "\(root)/etc/gshadow", atomically: true, encoding: .utf8)
        return root
    }

    static func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    static func owner(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? NSNumber)?.intValue ?? -1
    }

    @Test("lintian finds no error, and dpkg-deb shows the control fields, the Depends and every file where it belongs")
    func checkedAsDebianWould() async throws {
        let package = try await DebianPackageBuild.shared.package(version: "0.1.0")
        #expect(package.hasSuffix("edge-agent_0.1.0_\(try await Self.architecture()).deb"))

        let lintian = try await ChildProcess.run(
            try Self.tool("lintian"), ["--no-tag-display-limit", "--fail-on", "error", package],
            environment: [:])
        #expect(lintian.status == 0, "\(lintian.standardOutput)\(lintian.standardError)")
        #expect(!lintian.standardOutput.contains("E: "), "\(lintian.standardOutput)")

        let info = try await ChildProcess.run(try Self.tool("dpkg-deb"), ["--info", package], environment: [:])
        #expect(info.status == 0)
        #expect(info.standardOutput.contains(" Package: edge-agent\n"))
        #expect(info.standardOutput.contains(" Version: 0.1.0\n"))
        let depends = try #require(
            info.standardOutput.split(separator: "\n").first { $0.hasPrefix(" Depends: ") }, "\(info.standardOutput)")
        // The C libraries the program links, by their Debian names, found by dpkg-shlibdeps.
        for library in [
            "libc6", "libsqlite3-0", "libsodium23", "libopusenc0", "libspeexdsp1",
            "libespeak-ng1", "passwd",
        ] {
            #expect(
                depends.contains("\(library) ") || depends.contains("\(library),") || depends.hasSuffix(library),
                "\(depends)")
        }
        for script in ["postinst", "prerm", "postrm", "conffiles", "md5sums"] {
            #expect(
                info.standardOutput.contains(" \(script)\n") || info.standardOutput.contains(" \(script) "), "\(script)"
            )
        }

        let contents = try await ChildProcess.run(
            try Self.tool("dpkg-deb"), ["--contents", package], environment: [:])
        #expect(contents.status == 0)
        let paths = Set(
            contents.standardOutput.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        )
        for path in [
            "./opt/edge-agent/bin/edge-agent", "./opt/edge-agent/bin/edge-agent_EdgeAgent.resources/",
            "./lib/systemd/system/edge-agent.service", "./lib/systemd/system/edge-agent-backup.service",
            "./lib/systemd/system/edge-agent-backup.timer", "./etc/edge-agent/config.yaml",
            "./usr/share/doc/edge-agent/copyright", "./usr/share/doc/edge-agent/changelog.gz",
        ] {
            #expect(paths.contains(path), "\(path) is not in the package")
        }
        // Every file is root's, whoever built it (--root-owner-group).
        let owners = Set(contents.standardOutput.split(separator: "\n").map { $0.split(separator: " ")[1] })
        #expect(owners == ["root/root"])
        let conffiles = try await ChildProcess.run(
            try Self.tool("dpkg-deb"), ["--info", package, "conffiles"], environment: [:])
        #expect(conffiles.standardOutput == "/etc/edge-agent/config.yaml\n")
    }

    static func architecture() async throws -> String {
        try await ChildProcess.run(try tool("dpkg"), ["--print-architecture"], environment: [:]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "in a throwaway root: install makes the user and a 0750 data folder; an upgrade keeps data and an edited configuration; remove keeps both; purge deletes both"
    )
    func lifecycle() async throws {
        let first = try await DebianPackageBuild.shared.package(version: "0.1.0")
        let second = try await DebianPackageBuild.shared.package(version: "0.1.1")
        let root = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let manager = FileManager.default
        let data = "\(root)/var/lib/edge-agent"
        let config = "\(root)/etc/edge-agent/config.yaml"

        let install = try await Self.dpkg(root, ["--install", first])
        #expect(install.status == 0, "\(install.standardError)")
        #expect(manager.isExecutableFile(atPath: "\(root)/opt/edge-agent/bin/edge-agent"))
        #expect(manager.fileExists(atPath: "\(root)/lib/systemd/system/edge-agent.service"))
        let passwd = try String(contentsOfFile: "\(root)/etc/passwd", encoding: .utf8)
        let user = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("edge-agent:") }, "\(passwd)")
        let fields = user.split(separator: ":", omittingEmptySubsequences: false)
        #expect(fields[5] == "/var/lib/edge-agent" && fields[6] == "/usr/sbin/nologin", "\(user)")
        let uid = try #require(Int(fields[2]))
        #expect(uid > 0 && uid < 1000, "a system user: \(user)")
        #expect(try Self.mode(data) == 0o750)
        #expect(try Self.owner(data) == uid)
        #expect(try Self.mode("\(root)/etc/edge-agent/secrets.env") == 0o600)
        #expect(try await Self.dpkg(root, ["--status", "edge-agent"]).standardOutput.contains("Version: 0.1.0"))

        // What a box holds after a while: a database, and a configuration the technician edited.
        try "reservations".write(toFile: "\(data)/edge.sqlite", atomically: true, encoding: .utf8)
        var edited = try String(contentsOfFile: config, encoding: .utf8)
        edited += "# edited on site\n"
        try edited.write(toFile: config, atomically: true, encoding: .utf8)
        try "TWILIO_AUTH_TOKEN=kept\n".write(
            toFile: "\(root)/etc/edge-agent/secrets.env", atomically: true, encoding: .utf8)

        // Reinstalling the same version, and a second configure, are harmless: one user, the same folder.
        #expect(try await Self.dpkg(root, ["--install", first]).status == 0)
        let upgrade = try await Self.dpkg(root, ["--force-confold", "--install", second])
        #expect(upgrade.status == 0, "\(upgrade.standardError)")
        #expect(try await Self.dpkg(root, ["--status", "edge-agent"]).standardOutput.contains("Version: 0.1.1"))
        #expect(try String(contentsOfFile: "\(data)/edge.sqlite", encoding: .utf8) == "reservations")
        #expect(try String(contentsOfFile: config, encoding: .utf8) == edited)
        #expect(
            try String(contentsOfFile: "\(root)/etc/edge-agent/secrets.env", encoding: .utf8)
                == "TWILIO_AUTH_TOKEN=kept\n")
        let users = try String(contentsOfFile: "\(root)/etc/passwd", encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("edge-agent:") }
        #expect(users.count == 1)
        #expect(try Self.owner(data) == uid)

        let remove = try await Self.dpkg(root, ["--remove", "edge-agent"])
        #expect(remove.status == 0, "\(remove.standardError)")
        #expect(!manager.fileExists(atPath: "\(root)/opt/edge-agent/bin/edge-agent"))
        #expect(!manager.fileExists(atPath: "\(root)/lib/systemd/system/edge-agent.service"))
        #expect(try String(contentsOfFile: "\(data)/edge.sqlite", encoding: .utf8) == "reservations")
        #expect(try String(contentsOfFile: config, encoding: .utf8) == edited)

        let purge = try await Self.dpkg(root, ["--purge", "edge-agent"])
        #expect(purge.status == 0, "\(purge.standardError)")
        #expect(!manager.fileExists(atPath: data))
        #expect(!manager.fileExists(atPath: "\(root)/etc/edge-agent"))
        #expect(try await Self.dpkg(root, ["--status", "edge-agent"]).status != 0)
    }
}
