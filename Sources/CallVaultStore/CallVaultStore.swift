/// The SQLite catalog, the key store, the job queue and the audit log.
///
/// The values they keep are `CallVaultModel`'s; GRDB is imported internally only, so no client
/// depends on it.
public enum CallVaultStore {}
