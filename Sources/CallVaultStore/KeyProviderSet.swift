public import CallVaultKeyProviders
import Synchronization

/// Which key provider wraps a tenant's day keys: the data directory's (if any), or the tenant's own
/// (`tenant add|set --key-provider`, "bring your own key").
///
/// A tenant's own provider is opened on first use, not at start-up, so one customer's HSM or Vault that
/// is down or revoked fails that tenant's calls only, never a process or another tenant. An open that
/// fails is not remembered: the next use tries again, so work resumes when the provider returns.
public final class KeyProviderSet: Sendable {
    /// Opens one tenant's provider (blocking: loads a module, or checks a Transit mount). An error that
    /// is not a `KeyProviderError` is reported as `unavailable` with its description.
    public typealias Opener = @Sendable () throws -> any KeyProvider

    /// The data directory's provider; nil for `local` (day keys under tenant keys).
    public let defaultProvider: (any KeyProvider)?
    private let openers: [String: Opener]
    /// Opened tenant providers; one lock per tenant so a slow open blocks only its own tenant.
    private let opened = Mutex<[String: any KeyProvider]>([:])
    private let opening: [String: OpenLock]

    /// A lock held while one tenant's provider is being opened.
    private final class OpenLock: Sendable {
        let mutex = Mutex(())
    }

    public init(default defaultProvider: (any KeyProvider)?, tenants: [String: Opener] = [:]) {
        self.defaultProvider = defaultProvider
        self.openers = tenants
        self.opening = tenants.mapValues { _ in OpenLock() }
    }

    /// Whether the tenant's day keys go to a provider (its own or the directory's). Opens nothing.
    public func hasProvider(for tenantID: String) -> Bool {
        defaultProvider != nil || openers[tenantID] != nil
    }

    /// Whether the tenant has a provider of its own.
    public func hasOwnProvider(_ tenantID: String) -> Bool { openers[tenantID] != nil }

    /// Whether any tenant has a provider of its own.
    public var hasAnyOwnProvider: Bool { !openers.isEmpty }

    /// The tenant's provider, opened on first use; nil when its day keys stay under its tenant key.
    public func provider(for tenantID: String) throws(KeyProviderError) -> (any KeyProvider)? {
        guard let opener = openers[tenantID], let lock = opening[tenantID] else { return defaultProvider }
        if let provider = opened.withLock({ $0[tenantID] }) { return provider }
        return try lock.mutex.withLock { _ throws(KeyProviderError) -> any KeyProvider in
            if let provider = opened.withLock({ $0[tenantID] }) { return provider }
            let provider: any KeyProvider
            do {
                provider = try opener()
            } catch let error as KeyProviderError {
                throw error
            } catch {
                throw KeyProviderError(.unavailable, "\(error)")
            }
            opened.withLock { $0[tenantID] = provider }
            return provider
        }
    }

    /// The tenant's provider if it is open already (or the directory's), without opening one: for
    /// messages on paths that must not block (an ingest event loop).
    public func providerIfOpen(for tenantID: String) -> (any KeyProvider)? {
        guard openers[tenantID] != nil else { return defaultProvider }
        return opened.withLock { $0[tenantID] }
    }

    /// The providers opened so far (the default one first), to shut down at the end of a process.
    public var openedProviders: [any KeyProvider] {
        (defaultProvider.map { [$0] } ?? []) + opened.withLock { Array($0.values) }
    }
}
