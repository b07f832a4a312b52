/// The SQLite catalog, the key store, the job queue and the audit log.
public enum CallVaultStore {}
