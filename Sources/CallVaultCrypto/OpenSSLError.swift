import CLibCrypto

/// Drains OpenSSL's per-thread error queue into one readable reason.
///
/// OpenSSL reason strings name the failing function and reason, never data, so they are safe in
/// messages. The queue is cleared so a stale error never shows up beside a later, unrelated failure.
enum OpenSSLError {
    static func drain() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            buffer.withUnsafeMutableBufferPointer { ERR_error_string_n(code, $0.baseAddress, $0.count) }
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.isEmpty ? "no OpenSSL reason given" : reasons.joined(separator: "; ")
    }

    /// A `CryptoError` of code `.openssl` saying what was attempted and OpenSSL's reason.
    static func error(_ what: String) -> CryptoError {
        CryptoError(.openssl, "\(what) failed in OpenSSL (\(drain()))")
    }
}
