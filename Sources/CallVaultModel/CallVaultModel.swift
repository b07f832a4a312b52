/// The plain values CallVault's modules share: tenants and their policies, calls, consent events,
/// recordings, jobs, transcripts, audit entries, key-store outcomes and the errors of the stores.
///
/// No storage engine here: these are `Sendable`, mostly `Codable` values with no database
/// conformance, so the recorder, ingest, transcription and retention can use them without knowing
/// which backend keeps them. `CallVaultStore` maps them to its SQLite tables internally.
public enum CallVaultModel {}
