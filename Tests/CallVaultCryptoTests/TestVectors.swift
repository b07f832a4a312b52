import Foundation
import Testing
@testable import CallVaultCrypto

/// Finds the shared test vectors beside the checkout (`<repo>/../shared/testvectors`).
///
/// Where the folder is absent (someone's own clone), tests that need it are skipped with a message
/// saying so (`.enabled(if: TestVectors.available, …)`), never silently passed.
enum TestVectors {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // CallVaultCryptoTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repo root
        .appendingPathComponent("../shared/testvectors/wycheproof")
        .standardizedFileURL

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static var available: Bool {
        FileManager.default.fileExists(atPath: url("aes_gcm_test.json").path)
            && FileManager.default.fileExists(atPath: url("hkdf_sha256_test.json").path)
    }

    static let absentMessage: Comment =
        "Wycheproof vectors not found at ../shared/testvectors/wycheproof (see shared/testvectors/README.md); skipped"

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }
}

/// Hex in test vectors; a malformed vector is a test failure, not a crash.
func hex(_ s: String) throws -> [UInt8] {
    guard let bytes = Hex.decode(s) else { throw VectorError.badHex(s.prefix(16).description) }
    return bytes
}

enum VectorError: Error { case badHex(String) }
