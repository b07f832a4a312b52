import Testing
@testable import callvault

@Suite struct VersionTests {
    @Test func versionIsSemantic() {
        let parts = CallVaultVersion.string.split(separator: ".")
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { Int($0) != nil })
    }
}
