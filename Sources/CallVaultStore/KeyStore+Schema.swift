internal import GRDB

extension KeyStore {
    /// The key store's versioned schema. Never edit a shipped migration; add a new one.
    ///
    /// Wrapped keys live only in `wrapped` BLOB columns, never in an index, so deleting a row (with
    /// secure_delete) removes every copy from the b-tree pages.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-key-hierarchy") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tenant_key (
                        tenant_id  TEXT PRIMARY KEY NOT NULL,
                        key_id     TEXT NOT NULL UNIQUE,
                        wrapped    BLOB NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE hold_key (
                        tenant_id  TEXT PRIMARY KEY NOT NULL REFERENCES tenant_key(tenant_id),
                        key_id     TEXT NOT NULL UNIQUE,
                        wrapped    BLOB NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE day_key (
                        key_id     TEXT PRIMARY KEY NOT NULL,
                        tenant_id  TEXT NOT NULL REFERENCES tenant_key(tenant_id),
                        day        TEXT NOT NULL,
                        kind       TEXT NOT NULL CHECK (kind IN ('voice', 'transcript')),
                        wrapped    BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        UNIQUE (tenant_id, day, kind)
                    );
                    CREATE INDEX day_key_by_day ON day_key(day);
                    CREATE TABLE destroyed_day_key (
                        key_id       TEXT PRIMARY KEY NOT NULL,
                        tenant_id    TEXT NOT NULL,
                        day          TEXT NOT NULL,
                        kind         TEXT NOT NULL,
                        destroyed_at INTEGER NOT NULL,
                        UNIQUE (tenant_id, day, kind)
                    );
                    CREATE TABLE data_key (
                        owner_id        TEXT PRIMARY KEY NOT NULL,
                        tenant_id       TEXT NOT NULL REFERENCES tenant_key(tenant_id),
                        key_id          TEXT NOT NULL UNIQUE,
                        kind            TEXT NOT NULL CHECK (kind IN ('voice', 'transcript')),
                        expires_on      TEXT NOT NULL,
                        held            INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1)),
                        wrapping_key_id TEXT NOT NULL,
                        wrapped         BLOB NOT NULL,
                        created_at      INTEGER NOT NULL
                    );
                    CREATE INDEX data_key_by_wrapping_key ON data_key(wrapping_key_id);
                    CREATE TABLE shredded_data_key (
                        owner_id    TEXT PRIMARY KEY NOT NULL,
                        tenant_id   TEXT NOT NULL,
                        key_id      TEXT NOT NULL,
                        reason      TEXT NOT NULL CHECK (reason IN ('expired', 'erased')),
                        shredded_at INTEGER NOT NULL
                    );
                    """
            )
        }
        // A day key wrapped by a key provider names its provider key; NULL: wrapped by the tenant key.
        migrator.registerMigration("v2-day-key-provider") { db in
            try db.execute(sql: "ALTER TABLE day_key ADD COLUMN provider_key TEXT")
        }
        // Provider keys of day keys replaced by erasure (regenerated), until the provider destroys them:
        // a crash between the re-wrap and the destruction leaves the name here for the next run.
        migrator.registerMigration("v3-retired-provider-key") { db in
            try db.execute(
                sql: """
                    CREATE TABLE retired_provider_key (
                        provider_key TEXT PRIMARY KEY NOT NULL,
                        tenant_id    TEXT NOT NULL,
                        day          TEXT NOT NULL,
                        kind         TEXT NOT NULL,
                        retired_at   INTEGER NOT NULL
                    );
                    """
            )
        }
        // A hold key wrapped by a key provider names its provider key; NULL: wrapped by the tenant key.
        migrator.registerMigration("v4-hold-key-provider") { db in
            try db.execute(sql: "ALTER TABLE hold_key ADD COLUMN provider_key TEXT")
        }
        return migrator
    }()
}
