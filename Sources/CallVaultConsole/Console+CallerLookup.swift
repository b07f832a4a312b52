import CallVaultModel
import CallVaultStore

/// A lookup by caller number that failed, as a page can say it (never with the number).
struct CallerLookupFailure: Error {
    var status: Int
    var message: String
}

extension Console {
    /// The calls of the caller with this number in `tenant`, found by the tenant's keyed hash of the
    /// number (`calls(tenantID:callerNumber:callerKeys:)`, the lookup `callvault subject export`/`erase`
    /// use): the one lookup of the subject-requests page and the calls page's search. The number is
    /// neither kept nor logged here.
    func callsOfCaller(_ phoneNumber: String, in tenant: Tenant) async -> Result<[CallRecord], CallerLookupFailure> {
        let keys: CallerKeys
        do { keys = try exporter.keyStore.callerKeys(tenantID: tenant.id) } catch {
            return .failure(
                CallerLookupFailure(status: 503, message: "The key store cannot give the tenant's caller key: \(error.message)."))
        }
        do {
            return .success(try await catalog.calls(tenantID: tenant.id, callerNumber: phoneNumber, callerKeys: keys))
        } catch where error.code == .invalidArgument {
            return .failure(CallerLookupFailure(status: 400, message: "That is not a phone number: \(error.message)."))
        } catch {
            return .failure(CallerLookupFailure(status: 503, message: "The catalog cannot answer: \(error.message)."))
        }
    }
}
