import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import CallVaultTestSupport
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh data directory with a root key, key store, catalog, one tenant and one call; removed on release.
final class RecorderFixture {
    let data: TestDataDirectory
    var temp: String { data.root }
    var directory: DataDirectory { data.directory }
    var keyStore: KeyStore { data.keyStore }
    var catalog: Catalog { data.catalog }
    let tenantID: String
    let callID: String

    init(voiceDays: Int = 30) throws {
        data = try TestDataDirectory("recorder-test")
        tenantID = try data.addTenant("acme", policy: TenantPolicy(voiceDays: voiceDays)).tenant.id
        callID = try data.catalog.registerCall(tenantID: tenantID, externalID: "CA-1").id
    }

    /// `seconds` of a 1 kHz tone at 8 kHz, PCM16 little-endian bytes, starting at sample `offset`.
    static func tone(seconds: Double, offset: Int = 0, rate: Int = 8000) -> [Int16] {
        let count = Int(Double(rate) * seconds)
        return (0..<count).map { i in
            Int16(12_000 * sin(2 * Double.pi * 1000 * Double(i + offset) / Double(rate)))
        }
    }

    static func bytes(_ samples: [Int16]) -> [UInt8] {
        samples.withUnsafeBytes { raw in Array(raw) }
    }

    /// The mode bits of a path.
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    /// Appends raw bytes to a file, as a torn write would leave them.
    static func appendRaw(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_APPEND)
        precondition(fd >= 0)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
