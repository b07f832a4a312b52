import CallVaultModel
import CallVaultStore
import Foundation

/// Slows password guessing: after a few wrong passwords for one account from one address, sign-in for
/// that pair is refused (429) for a while, doubling with each further failure. A success clears it.
///
/// The failures are counted in the catalog, so every node sharing it counts the same guesses: a load
/// balancer spreading a guesser's tries over N nodes does not give it N times the tries.
struct LoginThrottle: Sendable {
    let catalog: any CatalogStore
    let rule: SignInLockout

    /// How long this pair must still wait, or nil when it may try. Throws when the catalog cannot answer
    /// (the sign-in is then refused with 503: an unknown lockout is not taken to be none).
    func wait(name: String, address: String) async throws(CatalogError) -> Duration? {
        let now = Date()
        guard let until = try await catalog.consoleSignInLockedUntil(name: name, address: address, at: now) else { return nil }
        return .milliseconds(Int64(max(1, until.timeIntervalSince(now) * 1000)))
    }

    /// Counts a failure; a catalog that cannot take it is logged by the caller (the answer is 401 anyway).
    func recordFailure(name: String, address: String) async throws(CatalogError) {
        _ = try await catalog.recordConsoleSignInFailure(name: name, address: address, rule: rule, at: Date())
    }

    func recordSuccess(name: String, address: String) async throws(CatalogError) {
        try await catalog.clearConsoleSignInFailures(name: name, address: address)
    }
}
