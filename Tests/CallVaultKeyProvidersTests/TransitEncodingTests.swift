import Foundation
import Testing

@testable import CallVaultKeyProviders

/// The raw-buffer Base64 and the one-field JSON scanner that keep key bytes out of Swift strings.
@Suite("Transit encodings")
struct TransitEncodingTests {
    @Test func base64MatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for count in Array(0...70) + [1000, 4097] {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
            #expect(Base64.encode(bytes) == expected, "\(count) bytes")
            let decoded: [UInt8]? = Array(expected.utf8).withUnsafeBytes { source in
                guard let n = Base64.decodedCount(source) else { return nil }
                var out = [UInt8](repeating: 0, count: n)
                let ok = out.withUnsafeMutableBytes { Base64.decode(source, into: $0) }
                return ok ? out : nil
            }
            #expect(decoded == bytes, "\(count) bytes")
        }
    }

    @Test func base64RejectsWhatIsNotPaddedBase64() {
        for text in ["A", "AB", "ABC", "AB=A", "A===", "====x", "AB C", "AB-_", "AB\n=", "=AAA"] {
            let count = Array(text.utf8).withUnsafeBytes { Base64.decodedCount($0) }
            #expect(count == nil, "\(text.debugDescription)")
        }
        #expect(Array("AA==".utf8).withUnsafeBytes { Base64.decodedCount($0) } == 1)
        #expect(Array("".utf8).withUnsafeBytes { Base64.decodedCount($0) } == 0)
    }

    private func find(_ json: String, _ path: [String] = ["data", "plaintext"]) -> String? {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBytes { raw in
            JSONScanner.stringRange(at: path, in: raw).map { String(decoding: bytes[$0], as: UTF8.self) }
        }
    }

    @Test func scannerFindsTheField() {
        #expect(find(#"{"data":{"plaintext":"QUJD"}}"#) == "QUJD")
        #expect(
            find(
                " {\n \"request_id\" : \"x\", \"lease_duration\": 0, \"renewable\": false, \"warnings\": null,\n"
                    + #" "data" : { "other": [1, 2.5e3, {"plaintext":"no"}], "plaintext" : "QUJD" }, "auth": null } "#
            ) == "QUJD"
        )
        #expect(
            find(#"{"data":{"plaintext":"a\"b"}}"#) == #"a\"b"#,
            "escapes are kept as written (and then fail Base64)"
        )
        #expect(find(#"{"plaintext":"QUJD"}"#) == nil)
        #expect(find(#"{"data":{"plaintext":12}}"#) == nil)
        #expect(find(#"{"data":{"plaintext":"QUJD"}} x"#) == nil)
        #expect(find(#"{"data":{"plaintext":"QUJD""#) == nil)
        #expect(find(#"{"data":{"plaintext":"QUJD"},}"#) == nil)
        #expect(find(#"{"data":{"a":tru,"plaintext":"QUJD"}}"#) == nil)
        #expect(find(#"{"data":{"plaintext":"QU\#nJD"}}"#) == nil, "a raw control character")
        #expect(find("") == nil)
        #expect(find(#"{"data":{"a":"# + String(repeating: "[", count: 100_000)) == nil)
        #expect(
            find(
                #"{"data":{"a":"# + String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
                    + #","plaintext":"QUJD"}}"#
            ) == "QUJD"
        )
    }
}
