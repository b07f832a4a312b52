import CallVaultModel
import Foundation
import Testing

/// `AuditAction.known` (what the console's audit filter offers and accepts) lists every action the sources
/// write: each constant, and each action spelled out where it is appended.
@Suite struct AuditActionTests {
    @Test func theKnownActionsAreEveryActionTheSourcesWrite() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        var written: Set<String> = []
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        let patterns = [#": AuditAction = "([a-z_]+\.[a-z_]+)""#, #"action: "([a-z_]+\.[a-z_]+)""#]
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for pattern in patterns {
                let regex = try NSRegularExpression(pattern: pattern)
                for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    if let range = Range(match.range(at: 1), in: text) { written.insert(String(text[range])) }
                }
            }
        }
        #expect(written.count > 30)
        #expect(Set(AuditAction.known.map(\.rawValue)) == written)
        #expect(AuditAction.known.map(\.rawValue) == AuditAction.known.map(\.rawValue).sorted())
    }
}
