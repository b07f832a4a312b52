import CallVaultTestSupport
import CallVaultTranscribe
import Foundation
import Testing

/// Redaction on real speech recognition (issue 17), end to end through the real binaries: calls spoken by
/// festival (a card number read as words with its code and expiry, an IBAN, a phone number and an e-mail,
/// and harmless talk) are streamed through `callvault serve`, transcribed by Whisper for a tenant that
/// redacts everything, and read back: each entity must be found in the text and its speech silent in the
/// stored recording. `scripts/redaction-figures --set ci --json` does the work; the bigger sets are in
/// docs/redaction.md.
@Suite(
    "Redaction round trip on Whisper output", .timeLimit(.minutes(15)),
    .enabled(if: WhisperInstallation.isInstalled(), "Whisper is not installed: run scripts/install-whisper"))
struct RedactionRoundTripTests {
    @Test func cardIBANAndEmailAreFoundAndSilentInTheStoredVoice() async throws {
        let executable = try #require(Repository.callvault)
        var environment = ProcessInfo.processInfo.environment
        environment["CALLVAULT"] = executable.path
        let script = URL(fileURLWithPath: Repository.root + "/scripts/redaction-figures")
        // A minute of waiting on a child: on a thread of its own, never one of the cooperative pool's two.
        let result = try await offCooperativePool { [environment] in
            try ChildProcess.run(script, ["--set", "ci", "--json"], environment: environment, timeout: .seconds(600))
        }
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let entities = try #require(report["entities"] as? [[String: Any]])
        #expect(entities.count == 6, "\(entities)")
        for entity in entities {
            let name = "\(entity["call"] ?? "?"):\(entity["kind"] ?? "?")"
            #expect(entity["leakedMs"] as? Int == 0, "\(name) left audible: \(entity)")
        }
        let found = entities.filter { $0["found"] as? Bool == true }.map { "\($0["kind"] ?? "")" }
        for kind in ["cardNumber", "securityCode", "iban", "phoneNumber", "email"] {
            #expect(found.contains(kind), "\(kind) not found in the transcript: \(entities)")
        }
        #expect(report["paymentLeakedMs"] as? Int == 0)
        #expect(report["harmlessRedacted"] as? Int == 0, "harmless talk was redacted: \(report)")
    }
}
