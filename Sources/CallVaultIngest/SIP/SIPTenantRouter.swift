import CallVaultModel
import CallVaultStore
import Foundation
import NIOCore
import Synchronization

/// Finds the tenant an INVITE is for: the request URI's user part names it (its name or its id, as in
/// `INVITE sip:acme@recorder.example`), and the request must come from one of the tenant's allowed
/// address blocks (`tenant set --sip-allow`; none by default). The tenant list is read from the catalog
/// at most every few seconds, off the event loops.
final class SIPTenantRouter: Sendable {
    enum Refusal: Error, Equatable {
        /// No tenant has this name or id: 404.
        case unknownTenant
        /// The tenant exists but the source is not in its allowed blocks: 403.
        case sourceNotAllowed
        /// The catalog could not answer: 503 with Retry-After.
        case catalogUnavailable(String)
    }

    private let catalog: any CatalogStore
    private let maxAge: Duration
    private let cache = Mutex<(tenants: [Tenant], readAt: ContinuousClock.Instant?)>(([], nil))

    init(catalog: any CatalogStore, maxAge: Duration = .seconds(5)) {
        self.catalog = catalog
        self.maxAge = maxAge
    }

    func route(user: String, source: String) async -> Result<Tenant, Refusal> {
        let tenants: [Tenant]
        do throws(CatalogError) { tenants = try await current() } catch { return .failure(.catalogUnavailable(error.message)) }
        let wanted = user.lowercased()
        guard let tenant = tenants.first(where: { $0.name.lowercased() == wanted || $0.id == user }) else {
            return .failure(.unknownTenant)
        }
        guard tenant.policy.sip.allows(source) else { return .failure(.sourceNotAllowed) }
        return .success(tenant)
    }

    private func current() async throws(CatalogError) -> [Tenant] {
        let now = ContinuousClock.now
        let cached = cache.withLock { $0 }
        if let readAt = cached.readAt, now - readAt < maxAge { return cached.tenants }
        let tenants = try await catalog.tenants()
        cache.withLock { $0 = (tenants, now) }
        return tenants
    }
}
