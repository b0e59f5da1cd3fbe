// swift-tools-version:6.2
// The on-site restaurant phone agent and its headquarters counterpart.
import PackageDescription

/// Applied to every target: Swift 6 language mode (strict concurrency) and explicit `any`.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // The house style: a warning is an error (in our targets; dependencies keep their own settings).
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "edge-agent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "edge-agent", targets: ["edge-agent"]),
        .library(name: "EdgeAgent", targets: ["EdgeAgent"]),
        .library(name: "LocalStore", targets: ["LocalStore"]),
        .library(name: "AudioIO", targets: ["AudioIO"]),
        .library(name: "LocalSpeech", targets: ["LocalSpeech"]),
        .library(name: "Sync", targets: ["Sync"]),
        .library(name: "CallRecording", targets: ["CallRecording"]),
        .library(name: "Resilience", targets: ["Resilience"]),
        .library(name: "SyncAgent", targets: ["SyncAgent"]),
        .library(name: "EdgeHQ", targets: ["EdgeHQ"]),
        .executable(name: "edge-hq", targets: ["edge-hq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.0"),
        // OTLP/HTTP only: the gRPC exporter's dependencies cost minutes of every CI build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
    ],
    targets: [
        // MARK: C libraries from Debian, found through pkg-config.
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(
            name: "COpusEnc", pkgConfig: "libopusenc", providers: [.apt(["libopusenc-dev"])]),
        .systemLibrary(
            name: "CSpeexDSP", pkgConfig: "speexdsp", providers: [.apt(["libspeexdsp-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(
            name: "CEspeak", pkgConfig: "espeak-ng", providers: [.apt(["libespeak-ng-dev"])]),
        .systemLibrary(
            name: "CPocketSphinx", pkgConfig: "pocketsphinx",
            providers: [.apt(["libpocketsphinx-dev", "libsphinxbase-dev", "pocketsphinx-en-us"])]),

        // MARK: Libraries
        .target(
            name: "AudioIO",
            dependencies: ["CSpeexDSP", "CALSA"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Sync",
            swiftSettings: swiftSettings
        ),
        // Speech recognition on the box (PocketSphinx), for the steps of a booking when the cloud is down.
        .target(
            name: "LocalSpeech",
            dependencies: ["AudioIO", "CPocketSphinx"],
            swiftSettings: swiftSettings
        ),
        // Twilio's webhook wire: form bodies and X-Twilio-Signature, shared by the box and headquarters.
        .target(
            name: "TwilioWire",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Handoff<Value> and Gate: a value or an event one task waits for from another.
        .target(name: "AsyncHandoff", swiftSettings: swiftSettings),
        // The code of a failure (`ErrorCode`) and the code-and-message error most modules throw.
        .target(name: "ErrorCodes", swiftSettings: swiftSettings),
        .target(
            name: "Resilience",
            dependencies: [
                "ErrorCodes",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CallRecording",
            dependencies: ["AudioIO", "CSodium", "COpusEnc", "ErrorCodes"],
            swiftSettings: swiftSettings
        ),
        // Write aside, fsync, rename, fsync the folder: one helper for every file that must be whole.
        .target(name: "DurableFiles", swiftSettings: swiftSettings),
        // What the box and headquarters answer alike: the JSON error body of every refusal, and the
        // health routes (/healthz, /readyz, /metrics).
        .target(
            name: "HTTPErrors",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "LocalStore",
            dependencies: [
                "ErrorCodes",
                "Sync",
                "DurableFiles",
                "CSodium",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SyncAgent",
            dependencies: [
                "Sync",
                "DurableFiles",
                "LocalStore",
                "Resilience",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EdgeHQ",
            dependencies: [
                "AsyncHandoff",
                "Sync",
                "DurableFiles",
                "HTTPErrors",
                "TwilioWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EdgeAgent",
            dependencies: [
                "AudioIO",
                "AsyncHandoff",
                "DurableFiles",
                "ErrorCodes",
                "HTTPErrors",
                "CallRecording",
                "CEspeak",
                "LocalStore",
                "Resilience",
                "Sync",
                "SyncAgent",
                "TwilioWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            resources: [
                .copy("Resources/seed-menu.json"), .copy("Resources/phrases"), .copy("Resources/catalog"),
                .copy("Resources/admin-openapi.json"), .copy("Resources/staff-page"),
            ],
            swiftSettings: swiftSettings
        ),

        // The call simulator (Twilio's side of a call: signed webhook, Media Streams, paced frames), the
        // demo with its cloud stand-ins, and the agent's benchmarks: tools around the agent, kept out
        // of the library that answers a restaurant's phone.
        .target(
            name: "CallSimulator",
            dependencies: [
                "AsyncHandoff",
                "EdgeAgent",
                "AudioIO",
                "CallRecording",
                "LocalStore",
                "Sync",
                "TwilioWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Executables (argument parsing and wiring only)
        .executableTarget(
            name: "edge-agent",
            dependencies: [
                "EdgeAgent",
                "CallSimulator",
                "AudioIO",
                "CallRecording",
                "LocalStore",
                "Sync",
                "SyncAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "edge-hq",
            dependencies: [
                "EdgeHQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks
        .executableTarget(
            name: "sync-benchmark",
            dependencies: [
                "EdgeHQ", "SyncAgent", "LocalStore", "Sync", "Resilience", "EdgeAgent", "CallSimulator", "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Benchmarks/SyncBenchmark",
            swiftSettings: swiftSettings
        ),

        // The agent's own benchmarks (phrase cache, listening, recognition, recording), as a library the
        // tests check and an executable `make bench` runs.
        .target(
            name: "AgentBenchmarks",
            dependencies: [
                "CallSimulator",
                "EdgeAgent",
                "AudioIO",
                "CallRecording",
                "LocalSpeech",
                "LocalStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/AgentBenchmarks",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "agent-bench",
            dependencies: [
                "AgentBenchmarks",
                "EdgeAgent",
                "AudioIO",
                "LocalSpeech",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/AgentBench",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "chaos-drill",
            dependencies: [
                "EdgeHQ", "SyncAgent", "LocalStore", "Sync", "Resilience", "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Benchmarks/ChaosDrill",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .executableTarget(
            name: "store-crash-writer",
            dependencies: ["LocalStore"],
            path: "Tests/Support/StoreCrashWriter",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "recording-crash-writer",
            dependencies: ["EdgeAgent", "LocalStore", "AudioIO", .product(name: "Logging", package: "swift-log")],
            path: "Tests/Support/RecordingCrashWriter",
            swiftSettings: swiftSettings
        ),
        // What the test targets share: temporary folders, child processes run off the cooperative pool,
        // throwaway PostgreSQL databases, opusdec, Twilio's own signing library.
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support/TestSupport",
            swiftSettings: swiftSettings
        ),
        // What tests of the store's users share: inbound calls recorded as Twilio's webhook would.
        .target(
            name: "StoreTestSupport",
            dependencies: ["LocalStore", "Sync"],
            path: "Tests/Support/StoreTestSupport",
            swiftSettings: swiftSettings
        ),
        // The cloud accounts' REST stand-ins (Twilio's numbers, the providers' key checks) both the
        // agent's and headquarters' tests use.
        .target(
            name: "CloudAccountDoubles",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/Support/CloudAccountDoubles",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AudioIOTests", dependencies: ["AudioIO", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SyncTests", dependencies: ["Sync"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DurableFilesTests", dependencies: ["DurableFiles", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LocalSpeechTests", dependencies: ["LocalSpeech", "AudioIO", "EdgeAgent", "AgentBenchmarks"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CallRecordingTests", dependencies: ["CallRecording", "AudioIO", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ResilienceTests",
            dependencies: [
                "AsyncHandoff", "Resilience", "TestSupport", .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LocalStoreTests",
            dependencies: [
                "LocalStore", "StoreTestSupport", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SystemLibrariesTests",
            dependencies: ["CSodium", "COpus", "COpusEnc", "CSpeexDSP", "CALSA"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EdgeHQTests",
            dependencies: [
                "AsyncHandoff",
                "TwilioWire",
                "EdgeHQ",
                "EdgeAgent",
                "CloudAccountDoubles",
                "StoreTestSupport",
                "TestSupport",
                "CallRecording",
                "SyncAgent",
                "LocalStore",
                "Sync",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EdgeAgentTests",
            dependencies: [
                "AsyncHandoff",
                "TwilioWire",
                "EdgeAgent",
                "CallSimulator",
                "AgentBenchmarks",
                "CloudAccountDoubles",
                "StoreTestSupport",
                "TestSupport",
                "CallRecording",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
