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
        .library(name: "CallVaultStore", targets: ["CallVaultStore"]),
        .library(name: "CallVaultRecorder", targets: ["CallVaultRecorder"]),
        .library(name: "CallVaultRetention", targets: ["CallVaultRetention"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C libraries, one system-library target each; wrapped in Swift by exactly one module.
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CPocketSphinx", pkgConfig: "pocketsphinx",
            providers: [.apt(["libpocketsphinx-dev", "libsphinxbase-dev", "pocketsphinx-en-us"])]),

        .target(name: "CallVaultAudio", dependencies: ["COpus", "CSndFile"]),
        .target(name: "CallVaultCrypto", dependencies: ["CLibCrypto"]),
        .target(
            name: "CallVaultStore",
            dependencies: [
                "CallVaultCrypto",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "CallVaultRecorder",
            dependencies: [
                "CallVaultAudio", "CallVaultCrypto", "CallVaultStore",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "CallVaultRetention",
            dependencies: ["CallVaultStore", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "callvault",
            dependencies: [
                "CallVaultAudio", "CallVaultCrypto", "CallVaultStore", "CallVaultRecorder", "CallVaultRetention",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(name: "CallVaultAudioTests", dependencies: ["CallVaultAudio"]),
        .testTarget(name: "CallVaultCryptoTests", dependencies: ["CallVaultCrypto"]),
        .testTarget(name: "CallVaultStoreTests", dependencies: ["CallVaultStore", "CallVaultCrypto"]),
        .testTarget(
            name: "CallVaultRetentionTests",
            dependencies: [
                "CallVaultRetention", "CallVaultStore", "CallVaultCrypto", .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(name: "CallVaultRecorderTests", dependencies: ["CallVaultRecorder"]),
        .testTarget(name: "CLITests", dependencies: ["callvault"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
