// swift-tools-version:6.1
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, so find out what the checkout is called.
let callVault = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent

// One-shot measurement tools, kept out of the package-benchmark package (whose `benchmark` command
// runs every executable there as a benchmark). Run them through scripts/seal-speed and scripts/sweep-scale.
let package = Package(
    name: "CallVaultTools",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "SealSpeed",
            dependencies: [.product(name: "CallVaultCrypto", package: callVault)],
            path: "SealSpeed"
        ),
        .executableTarget(
            name: "SweepScale",
            dependencies: [
                .product(name: "CallVaultModel", package: callVault),
                .product(name: "CallVaultRetention", package: callVault),
                .product(name: "CallVaultStore", package: callVault),
                .product(name: "CallVaultCrypto", package: callVault),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "SweepScale"
        ),
    ],
    swiftLanguageModes: [.v6]
)
