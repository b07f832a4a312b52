// swift-tools-version:6.1
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, so find out what the checkout is called.
let callVault = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// Benchmarks live in their own package so `swift build` and `swift test` of CallVault never build
// the benchmark harness. Run from this folder: `swift package benchmark` (see ../README.md).
let package = Package(
    name: "CallVaultBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "AudioBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CallVaultAudio", package: callVault),
            ],
            path: "Benchmarks/AudioBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "RecorderWriterBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CallVaultRecorder", package: callVault),
                .product(name: "CallVaultStore", package: callVault),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/RecorderWriterBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "CryptoBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CallVaultCrypto", package: callVault),
            ],
            path: "Benchmarks/CryptoBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Not a package-benchmark suite: our sealing beside `openssl speed` (scripts/seal-speed).
        .executableTarget(
            name: "RecorderBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CallVaultAudio", package: callVault),
                .product(name: "CallVaultCrypto", package: callVault),
                .product(name: "CallVaultIngest", package: callVault),
                .product(name: "CallVaultModel", package: callVault),
                .product(name: "CallVaultRecorder", package: callVault),
                .product(name: "CallVaultStore", package: callVault),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/RecorderBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "IngestBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CallVaultAudio", package: callVault),
                .product(name: "CallVaultIngest", package: callVault),
            ],
            path: "Benchmarks/IngestBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "TranscribeBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CallVaultArchive", package: callVault),
                .product(name: "CallVaultAudio", package: callVault),
                .product(name: "CallVaultModel", package: callVault),
                .product(name: "CallVaultRecorder", package: callVault),
                .product(name: "CallVaultStore", package: callVault),
                .product(name: "CallVaultTranscribe", package: callVault),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/TranscribeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
