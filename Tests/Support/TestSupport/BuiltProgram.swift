public import Foundation

/// The package's executables, built beside the test bundle (`swift build --build-tests` builds them).
public enum BuiltProgram {
    /// The path of the executable `name` (`edge-agent`, `edge-hq`, `store-crash-writer`, …).
    public static func url(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }
}

/// The Python the tests use for cross-checks with other projects' own code (Twilio's library, moto):
/// `EDGE_TEST_PYTHON`, or the virtualenv `provisioning/install-build-deps.sh --test` makes.
public enum TestPython {
    /// The interpreter's path; it may not exist where the virtualenv was not made (never in CI).
    public static var path: String {
        if let path = ProcessInfo.processInfo.environment["EDGE_TEST_PYTHON"], !path.isEmpty { return path }
        let venv =
            ProcessInfo.processInfo.environment["EDGE_TEST_VENV"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/edge-agent-test-venv")
        return (venv as NSString).appendingPathComponent("bin/python3")
    }

    /// Whether the interpreter is there.
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }
}
