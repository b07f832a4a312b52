// swift-tools-version:6.1
import PackageDescription

/// Settings every CallVault target shares: Swift 6 language mode, strict concurrency.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "CallVault",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "callvault", targets: ["callvault"]),
        .library(name: "CallVaultAudio", targets: ["CallVaultAudio"]),
        .library(name: "CallVaultCrypto", targets: ["CallVaultCrypto"]),
        .library(name: "CallVaultModel", targets: ["CallVaultModel"]),
        .library(name: "CallVaultStore", targets: ["CallVaultStore"]),
        .library(name: "CallVaultArchive", targets: ["CallVaultArchive"]),
        .library(name: "CallVaultRecorder", targets: ["CallVaultRecorder"]),
        .library(name: "CallVaultRetention", targets: ["CallVaultRetention"]),
        .library(name: "CallVaultIngest", targets: ["CallVaultIngest"]),
        .library(name: "CallVaultConsole", targets: ["CallVaultConsole"]),
        .library(name: "CallVaultTranscribe", targets: ["CallVaultTranscribe"]),
        .library(name: "CallVaultKeyProviders", targets: ["CallVaultKeyProviders"]),
        .library(name: "CallVaultObjects", targets: ["CallVaultObjects"]),
        .library(name: "CallVaultSIP", targets: ["CallVaultSIP"]),
        .library(name: "CallVaultRTP", targets: ["CallVaultRTP"]),
        .library(name: "CallVaultRedaction", targets: ["CallVaultRedaction"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C libraries, one system-library target each; wrapped in Swift by exactly one module.
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPKCS11", pkgConfig: "p11-kit-1", providers: [.apt(["libp11-kit-dev"])]),
        .systemLibrary(
            name: "CPocketSphinx", pkgConfig: "pocketsphinx",
            providers: [.apt(["libpocketsphinx-dev", "libsphinxbase-dev", "pocketsphinx-en-us"])]),
        .systemLibrary(name: "CSpanDSP", pkgConfig: "spandsp", providers: [.apt(["libspandsp-dev"])]),

        .target(name: "CallVaultAudio", dependencies: ["COpus", "CSndFile"]),
        .target(name: "CallVaultCrypto", dependencies: ["CLibCrypto"]),
        // Plain values the other modules share (records, enums, policies, errors): no storage engine.
        // It names the redaction categories a tenant's policy switches on (`CallVaultRedaction`, which is
        // itself the standard library only).
        .target(name: "CallVaultModel", dependencies: ["CallVaultRedaction"]),
        // The stores: SQLite (GRDB) and PostgreSQL (postgres-nio) backends, both imported internally
        // only, so no client sees either engine.
        .target(
            name: "CallVaultStore",
            dependencies: [
                "CallVaultModel", "CallVaultCrypto", "CallVaultKeyProviders",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        .target(
            name: "CallVaultArchive",
            dependencies: [
                "CallVaultAudio", "CallVaultCrypto", "CallVaultStore", "CallVaultObjects", "CallVaultRedaction",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        .target(
            name: "CallVaultRecorder",
            dependencies: [
                "CallVaultArchive", "CallVaultAudio", "CallVaultModel", "CallVaultCrypto", "CallVaultStore",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "CallVaultRetention",
            dependencies: [
                "CallVaultArchive", "CallVaultAudio", "CallVaultModel", "CallVaultStore", "CallVaultObjects", "CallVaultRecorder",
                "CallVaultCrypto", "CallVaultRedaction", "CZlib", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        .target(
            name: "CallVaultIngest",
            dependencies: [
                "CallVaultArchive", "CallVaultAudio", "CallVaultCrypto", "CallVaultModel", "CallVaultStore", "CallVaultRecorder", "CallVaultSIP", "CallVaultRTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The operator web console (`serve --console`): its own NIO HTTP/1 listener, pages rendered on the
        // server, sessions and CSRF, playback decrypted on demand through the archive's exporter.
        .target(
            name: "CallVaultConsole",
            dependencies: [
                "CallVaultArchive", "CallVaultCrypto", "CallVaultModel", "CallVaultStore", "CallVaultIngest", "CallVaultRetention",
                "CallVaultRedaction",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Webhooks: the dispatcher that sends the catalog's outbox to tenants' receivers, signed per
        // Standard Webhooks (HMAC from CallVaultCrypto), with async-http-client on its own event loop.
        .target(
            name: "CallVaultWebhooks",
            dependencies: [
                "CallVaultModel", "CallVaultStore", "CallVaultCrypto",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Key providers: where the keys that shredding destroys live (PKCS#11 token, Vault/OpenBao Transit).
        .target(
            name: "CallVaultKeyProviders",
            dependencies: [
                "CallVaultCrypto", "CPKCS11",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // Object storage: where sealed files live (a local directory, or a bucket over the S3 API with
        // its own Signature Version 4 signer on CallVaultCrypto's SHA-256 and HMAC).
        .target(
            name: "CallVaultObjects",
            dependencies: [
                "CallVaultCrypto",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // SIP and SIPREC parsing (messages, framing, multipart, SDP, recording metadata, track mapping):
        // pure values over bytes, the standard library only, so the fuzzer and the future UAS share it.
        .target(name: "CallVaultSIP"),
        // RTP and SRTP media for the SIP recording server: header checks, sequence extension, the
        // reorder window and timeline, RFC 4733 DTMF, G.722 (spandsp), SRTP (SDES) on libcrypto. Pure
        // values and buffers, no sockets: the NIO server feeds it datagrams.
        .target(name: "CallVaultRTP", dependencies: ["CallVaultAudio", "CallVaultCrypto", "CallVaultSIP", "CSpanDSP"]),
        // The offline redaction detector (spoken-number normaliser, entity rules, placeholder text):
        // pure values over word lists, the standard library only, so transcription, the audio
        // redactor and the CLI can all share it without a model or a network.
        .target(name: "CallVaultRedaction"),
        .target(
            name: "CallVaultTranscribe",
            dependencies: [
                "CallVaultArchive", "CallVaultAudio", "CallVaultModel", "CallVaultCrypto", "CallVaultStore", "CallVaultRecorder",
                "CallVaultObjects", "CallVaultRedaction", "CallVaultRetention", "CPocketSphinx", .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "callvault",
            dependencies: [
                "CallVaultAudio", "CallVaultModel", "CallVaultCrypto", "CallVaultStore", "CallVaultArchive", "CallVaultRecorder",
                "CallVaultRetention", "CallVaultIngest", "CallVaultTranscribe", "CallVaultKeyProviders", "CallVaultObjects",
                "CallVaultRedaction", "CallVaultConsole", "CallVaultWebhooks", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]),

        // libFuzzer targets (see docs/fuzzing.md and scripts/fuzz). In a normal build each is a small
        // executable that replays the input files it is given; scripts/fuzz builds them with
        // `--sanitize=fuzzer -DCALLVAULT_FUZZ`, which drops that `main` for libFuzzer's.
        .target(name: "FuzzSupport", path: "Fuzz/Support"),
        .executableTarget(
            name: "FuzzTwilio", dependencies: ["CallVaultIngest", "CallVaultAudio", "FuzzSupport"], path: "Fuzz/Twilio"),
        .executableTarget(
            name: "FuzzStreamStart", dependencies: ["CallVaultIngest", "CallVaultAudio", "FuzzSupport"],
            path: "Fuzz/StreamStart"),
        .executableTarget(
            name: "FuzzAudioSocket", dependencies: ["CallVaultIngest", "CallVaultAudio", "FuzzSupport"],
            path: "Fuzz/AudioSocket"),
        .executableTarget(
            name: "FuzzSealedFile", dependencies: ["CallVaultCrypto", "FuzzSupport"], path: "Fuzz/SealedFile"),
        .executableTarget(
            name: "FuzzWebSocket",
            dependencies: [
                "CallVaultIngest", "FuzzSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/WebSocket"),
        .executableTarget(name: "FuzzSIP", dependencies: ["CallVaultSIP", "FuzzSupport"], path: "Fuzz/SIP"),
        .executableTarget(name: "FuzzRTP", dependencies: ["CallVaultRTP", "CallVaultAudio", "FuzzSupport"], path: "Fuzz/RTP"),

        // What several test targets share (as swift-nio's NIOTestUtils): child processes with deadlines,
        // polling instead of sleeps, temporary data directories, seeded randomness, the malloc counter,
        // the repository's sample files. A library, not a test target, so test targets can depend on it.
        .target(
            name: "CallVaultTestSupport",
            dependencies: [
                "CallVaultModel", "CallVaultStore", .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            path: "Tests/CallVaultTestSupport"),
        .testTarget(name: "CallVaultAudioTests", dependencies: ["CallVaultAudio", "CallVaultTestSupport"]),
        .testTarget(name: "CallVaultSIPTests", dependencies: ["CallVaultSIP"]),
        .testTarget(
            name: "CallVaultRTPTests",
            dependencies: ["CallVaultRTP", "CallVaultAudio", "CallVaultCrypto", "CallVaultSIP", "CSpanDSP", "CallVaultTestSupport"]),
        .testTarget(name: "CallVaultRedactionTests", dependencies: ["CallVaultRedaction"]),
        .testTarget(name: "CallVaultCryptoTests", dependencies: ["CallVaultCrypto", "CallVaultTestSupport"]),
        .testTarget(
            name: "CallVaultKeyProvidersTests",
            dependencies: ["CallVaultKeyProviders", "CallVaultCrypto", "CallVaultTestSupport"]),
        .testTarget(
            name: "CallVaultObjectsTests",
            dependencies: ["CallVaultObjects", "CallVaultCrypto", "CallVaultTestSupport"]),
        .testTarget(
            name: "CallVaultStoreTests",
            dependencies: [
                "CallVaultModel", "CallVaultStore", "CallVaultCrypto", "CallVaultKeyProviders", "CallVaultTestSupport",
                "CallVaultRedaction", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(
            name: "CallVaultRetentionTests",
            dependencies: [
                "CallVaultRetention", "CallVaultStore", "CallVaultCrypto", "CallVaultAudio", "CallVaultModel", "CallVaultArchive",
                "CallVaultRecorder", "CallVaultTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "CallVaultIngestTests",
            dependencies: [
                "CallVaultIngest", "CallVaultAudio", "CallVaultModel", "CallVaultStore", "CallVaultArchive", "CallVaultRecorder",
                "CallVaultTestSupport", "CallVaultKeyProviders", "CallVaultCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "CallVaultRecorderTests",
            dependencies: [
                "CallVaultRecorder", "CallVaultArchive", "CallVaultAudio", "CallVaultModel", "CallVaultStore", "CallVaultCrypto",
                "CallVaultObjects", "CallVaultTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "CallVaultTranscribeTests",
            dependencies: [
                "CallVaultTranscribe", "CallVaultArchive", "CallVaultAudio", "CallVaultModel", "CallVaultCrypto", "CallVaultStore",
                "CallVaultRecorder", "CallVaultRedaction", .product(name: "GRDB", package: "GRDB.swift"),
                "CallVaultTestSupport", .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(
            name: "CallVaultConsoleTests",
            dependencies: [
                "CallVaultConsole", "CallVaultArchive", "CallVaultAudio", "CallVaultCrypto", "CallVaultModel", "CallVaultStore",
                "CallVaultRecorder", "CallVaultIngest", "CallVaultRetention", "CallVaultTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "CallVaultWebhooksTests",
            dependencies: [
                "CallVaultWebhooks", "CallVaultStore", "CallVaultModel", "CallVaultCrypto", "CallVaultTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "callvault", "CallVaultAudio", "CallVaultModel", "CallVaultStore", "CallVaultArchive", "CallVaultRecorder",
                "CallVaultTranscribe", "CallVaultObjects", "CallVaultCrypto", "CallVaultTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}

// scripts/fuzz builds with CALLVAULT_FUZZ=1 in the environment and `--sanitize=fuzzer
// --sanitize=address`. swiftc lets the last `-sanitize=` flag win, so that pair alone leaves the
// code without libFuzzer's coverage counters (the fuzzer then runs blind: "no interesting inputs
// were found"). Ask for the coverage explicitly, for CallVault's own code only.
if Context.environment["CALLVAULT_FUZZ"] != nil {
    for target in package.targets where target.type == .regular || target.type == .executable {
        target.swiftSettings = (target.swiftSettings ?? []) + [
            .unsafeFlags(["-sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp"])
        ]
    }
}
