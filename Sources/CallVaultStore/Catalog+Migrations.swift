internal import GRDB

extension Catalog {
    /// The catalog's schema history. Each migration runs once, in order, and is recorded in
    /// `grdb_migrations`; never edit a shipped migration, add the next one ("v2", …) instead.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try createSchemaV1(db)
        }
        // v2: callers' phone keys are derived from the tenant key in the key store (KeyStore.callerKeys);
        // the catalog no longer keeps one. The column stays (SQLite keeps its CHECK) but holds zeros.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: "UPDATE tenants SET phone_hash_key = zeroblob(32)")
        }
        // v3: claiming walks a partial index in urgency order instead of scanning every job (measured:
        // 17 claims/s with 120,000 jobs queued before, see README), and expired leases have their own.
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    DROP INDEX jobs_claimable;
                    CREATE INDEX jobs_runnable ON jobs(priority DESC, run_after, created_at)
                        WHERE state IN ('queued', 'failed');
                    CREATE INDEX jobs_leased ON jobs(lease_expires_at) WHERE state = 'running';
                    """)
        }
        // v4: the language a tenant's calls are transcribed in (Whisper), `auto` to detect it.
        migrator.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    ALTER TABLE tenants ADD COLUMN transcript_language TEXT NOT NULL DEFAULT 'en'
                        CHECK (transcript_language = 'auto' OR length(transcript_language) BETWEEN 2 AND 3)
                    """)
        }
        // v5: the Whisper model directory a tenant's calls are transcribed with; NULL for the run's model.
        migrator.registerMigration("v5") { db in
            try db.execute(
                sql: """
                    ALTER TABLE tenants ADD COLUMN transcript_model TEXT
                        CHECK (transcript_model IS NULL OR
                            (length(transcript_model) BETWEEN 2 AND 1024 AND substr(transcript_model, 1, 1) = '/'))
                    """)
        }
        // v6: named leases (ServiceLeases), so of several `callvault sweep` processes on one catalog exactly
        // one acts at a time; times as the catalog's other times (UTC text, milliseconds, ordered as text).
        migrator.registerMigration("v6") { db in
            try db.execute(
                sql: """
                    CREATE TABLE service_leases (
                        name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                        holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
                        acquired_at TEXT NOT NULL,
                        expires_at TEXT NOT NULL
                    )
                    """)
        }
        // v7: the serve node that records each recording (its lease's name), so a node recovers only the
        // open recordings of nodes whose lease ran out, never another live node's.
        migrator.registerMigration("v7") { db in
            try db.execute(
                sql: "ALTER TABLE recordings ADD COLUMN node TEXT CHECK (node IS NULL OR length(node) BETWEEN 1 AND 100)")
        }
        // v8: where a sealed file is when the directory keeps its files in an object store (SealedStorage):
        // NULL in the embedded default. The partial indexes hold only the rows a reconciler still uploads.
        migrator.registerMigration("v8") { db in
            for table in ["recordings", "transcripts"] {
                try db.execute(
                    sql: """
                        ALTER TABLE \(table) ADD COLUMN storage TEXT
                            CHECK (storage IS NULL OR storage IN ('spooled', 'uploading', 'stored'))
                        """)
                try db.execute(
                    sql: "CREATE INDEX \(table)_awaiting_upload ON \(table) (storage) WHERE storage IN ('spooled', 'uploading')")
            }
        }
        // v9: a tenant's SIP settings (TenantSIPSettings as JSON): the source blocks its SBCs send from, its
        // own SIPREC addresses. NULL: none (no SIP call reaches the tenant).
        migrator.registerMigration("v9") { db in
            try db.execute(sql: "ALTER TABLE tenants ADD COLUMN sip_settings TEXT CHECK (sip_settings IS NULL OR length(sip_settings) <= 65536)")
        }
        // v10: what a tenant has redacted from its transcripts (TenantRedaction: `pci,bank,contact,ids`).
        // NULL: none, which existing tenants keep until their operator decides (redaction rewrites what
        // is stored for good).
        migrator.registerMigration("v10") { db in
            try db.execute(sql: "ALTER TABLE tenants ADD COLUMN redact TEXT CHECK (redact IS NULL OR length(redact) BETWEEN 1 AND 200)")
        }
        // v11: audio redaction. A redacted copy names the recording it replaced (`redacted_from`) and
        // keeps what it silenced (RecordingRedaction as JSON: spans, kinds, verification; no values).
        migrator.registerMigration("v11") { db in
            try db.execute(sql: "ALTER TABLE recordings ADD COLUMN redacted_from TEXT CHECK (redacted_from IS NULL OR length(redacted_from) BETWEEN 1 AND 255)")
            try db.execute(sql: "ALTER TABLE recordings ADD COLUMN redaction TEXT CHECK (redaction IS NULL OR length(redaction) <= 1048576)")
            try db.execute(sql: "CREATE INDEX recordings_by_original ON recordings(redacted_from) WHERE redacted_from IS NOT NULL")
        }
        // v12: sensitive windows the bot declares on a live call (API event or Twilio mark); the caller's
        // track in them is redacted after the call whatever the detector finds.
        migrator.registerMigration("v12") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sensitive_windows (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        call_id TEXT NOT NULL REFERENCES calls(id),
                        start_ms INTEGER NOT NULL CHECK (start_ms >= 0),
                        end_ms INTEGER CHECK (end_ms IS NULL OR end_ms >= start_ms),
                        source TEXT NOT NULL CHECK (source IN ('api', 'mark'))
                    );
                    CREATE INDEX sensitive_windows_by_call ON sensitive_windows(call_id);
                    """)
        }
        // v13: web console operators (a scrypt hash of the password, never the password) and their role
        // per tenant.
        migrator.registerMigration("v13") { db in
            try db.execute(
                sql: """
                    CREATE TABLE operators (
                        name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
                        password_hash TEXT NOT NULL CHECK (password_hash LIKE 'scrypt$%' AND length(password_hash) <= 512),
                        global_admin INTEGER NOT NULL DEFAULT 0 CHECK (global_admin IN (0, 1)),
                        created_at TEXT NOT NULL
                    );
                    CREATE TABLE operator_roles (
                        operator_name TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
                        tenant_id TEXT NOT NULL REFERENCES tenants(id),
                        role TEXT NOT NULL CHECK (role IN ('viewer', 'agent', 'admin')),
                        PRIMARY KEY (operator_name, tenant_id)
                    );
                    CREATE INDEX calls_by_tenant_started ON calls(tenant_id, started_at DESC, id);
                    """)
        }
        // v14: webhooks (WebhookStore). A tenant's endpoint with its signing secrets wrapped under the tenant
        // key (the catalog alone cannot sign), and the outbox its events wait in, written in the transaction
        // of the change each reports. `armed_at` starts the give-up clock (reset by a redelivery).
        migrator.registerMigration("v14") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhook_endpoints (
                        tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants(id),
                        url TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
                        allow_private INTEGER NOT NULL DEFAULT 0 CHECK (allow_private IN (0, 1)),
                        secret_id TEXT NOT NULL CHECK (length(secret_id) BETWEEN 1 AND 100),
                        secret_wrapped BLOB NOT NULL,
                        previous_secret_id TEXT,
                        previous_secret_wrapped BLOB,
                        previous_until TEXT,
                        updated_at TEXT NOT NULL,
                        CHECK ((previous_secret_id IS NULL) = (previous_secret_wrapped IS NULL))
                    );
                    CREATE TABLE webhook_outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 100),
                        tenant_id TEXT NOT NULL REFERENCES tenants(id),
                        call_id TEXT,
                        type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
                        payload TEXT NOT NULL,
                        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        next_attempt_at TEXT NOT NULL,
                        armed_at TEXT NOT NULL,
                        lease_owner TEXT,
                        lease_expires_at TEXT,
                        last_error TEXT,
                        created_at TEXT NOT NULL,
                        delivered_at TEXT
                    );
                    CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at, seq) WHERE state = 'pending';
                    CREATE INDEX webhook_outbox_pending_by_call ON webhook_outbox(call_id, seq)
                        WHERE state = 'pending' AND call_id IS NOT NULL;
                    CREATE INDEX webhook_outbox_by_tenant ON webhook_outbox(tenant_id, seq);
                    """)
        }
        // v15: what the bot said, as its platform sent it (sealed under the call's bot-text key), until the
        // call's transcript holds it.
        migrator.registerMigration("v15") { db in
            try db.execute(
                sql: """
                    CREATE TABLE bot_utterances (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        call_id TEXT NOT NULL REFERENCES calls(id),
                        utterance_id TEXT NOT NULL CHECK (length(utterance_id) BETWEEN 1 AND 100),
                        start_ms INTEGER NOT NULL CHECK (start_ms >= 0),
                        end_ms INTEGER CHECK (end_ms IS NULL OR end_ms >= start_ms),
                        placement TEXT NOT NULL CHECK (placement IN ('given', 'arrival', 'mark')),
                        sealed_text BLOB NOT NULL,
                        UNIQUE (call_id, utterance_id)
                    );
                    """)
        }
        // v16: how a tenant's calls are transcribed beyond language and model (TenantTranscription: the bot's
        // side from its text, speech recognition or both; a vocabulary). NULL: the defaults.
        migrator.registerMigration("v16") { db in
            try db.execute(
                sql: "ALTER TABLE tenants ADD COLUMN transcription TEXT CHECK (transcription IS NULL OR length(transcription) BETWEEN 2 AND 8000)")
        }
        // v17: the TLS client certificates a tenant's platform must present (TenantClientCertificates: SHA-256
        // fingerprints, comma-separated, at most 10). NULL: none asked for.
        migrator.registerMigration("v17") { db in
            try db.execute(
                sql: "ALTER TABLE tenants ADD COLUMN client_certs TEXT CHECK (client_certs IS NULL OR length(client_certs) BETWEEN 64 AND 649)")
        }
        // v18: an operator's optional TOTP second factor (RFC 6238): its 160-bit secret, and the step of the
        // last code accepted, so that no code is accepted twice. NULL: no second factor.
        migrator.registerMigration("v18") { db in
            try db.execute(
                sql: """
                    ALTER TABLE operators ADD COLUMN totp_secret BLOB CHECK (totp_secret IS NULL OR length(totp_secret) = 20);
                    ALTER TABLE operators ADD COLUMN totp_last_step INTEGER;
                    """)
        }
        // v19: a call's consent outcome in a column (the call list filters it in SQL), backfilled from the stored
        // events; indexes for the console's filtered keyset pages (newest first, any tenant, live calls, by
        // outcome) and the jobs page (newest first, by tenant).
        migrator.registerMigration("v19") { db in
            try db.execute(
                sql: """
                    ALTER TABLE calls ADD COLUMN consent_state TEXT NOT NULL DEFAULT 'pending'
                        CHECK (consent_state IN \(consentStatesSQL));
                    """)
            try backfillConsentStates(db)
            try db.execute(
                sql: """
                    CREATE INDEX calls_by_started ON calls(started_at DESC, id);
                    CREATE INDEX calls_by_consent ON calls(consent_state, started_at DESC, id);
                    CREATE INDEX calls_by_tenant_consent ON calls(tenant_id, consent_state, started_at DESC, id);
                    CREATE INDEX calls_live ON calls(started_at DESC, id) WHERE ended_at IS NULL;
                    CREATE INDEX calls_live_by_tenant ON calls(tenant_id, started_at DESC, id) WHERE ended_at IS NULL;
                    CREATE INDEX jobs_by_created ON jobs(created_at DESC, id DESC);
                    CREATE INDEX jobs_by_tenant_created ON jobs(tenant_id, created_at DESC, id DESC);
                    """)
        }
        // v20: the console's audit filters (action, actor, subject) walk an index of that column in sequence order,
        // so a filtered page reads a page of rows instead of the log (on 1,000,000 entries a subject's entries took
        // 137 ms to find without, 0.2 ms with; see docs/console.md). Dates have no index: they narrow another walk.
        migrator.registerMigration("v20") { db in
            try db.execute(
                sql: """
                    CREATE INDEX audit_log_by_action ON audit_log(action, seq);
                    CREATE INDEX audit_log_by_actor ON audit_log(actor, seq);
                    CREATE INDEX audit_log_by_subject ON audit_log(subject_id, seq);
                    """)
        }
        // v21: web console sessions in the catalog, so every node sharing it knows them (a node's restart or
        // a load balancer's choice no longer signs an operator out). The id is the SHA-256 of the cookie's
        // token, never the token; an operator's removal takes its sessions with it.
        migrator.registerMigration("v21") { db in
            try db.execute(
                sql: """
                    CREATE TABLE console_sessions (
                        id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 64),
                        operator_name TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
                        created_at TEXT NOT NULL,
                        last_seen_at TEXT NOT NULL
                    );
                    CREATE INDEX console_sessions_by_last_seen ON console_sessions(last_seen_at);
                    CREATE INDEX console_sessions_by_operator ON console_sessions(operator_name);
                    """)
        }
        // v22: an operator's TOTP secret sealed under the key store's root key (bound to the operator's name),
        // so the catalog alone cannot compute codes; `totp_secret` keeps the plain secrets enrolled before.
        migrator.registerMigration("v22") { db in
            try db.execute(
                sql: "ALTER TABLE operators ADD COLUMN totp_sealed BLOB CHECK (totp_sealed IS NULL OR length(totp_sealed) = 49)")
        }
        // v23: a console session's playback grant, so any node can open the call for that session's player
        // (the reasons its decryption was audited with; already in the audit log). Ends with the session.
        migrator.registerMigration("v23") { db in
            try db.execute(
                sql: """
                    CREATE TABLE console_playback_grants (
                        session_id TEXT PRIMARY KEY NOT NULL REFERENCES console_sessions(id) ON DELETE CASCADE,
                        call_id TEXT NOT NULL,
                        reason TEXT NOT NULL CHECK (length(CAST(reason AS BLOB)) BETWEEN 1 AND 500),
                        override_reason TEXT CHECK (override_reason IS NULL OR length(CAST(override_reason AS BLOB)) BETWEEN 1 AND 500),
                        expires_at TEXT NOT NULL
                    );
                    """)
        }
        // v24: failed console sign-ins per name and address, so that every node sharing the catalog counts the
        // same guesses and locks the same pairs out. Pairs without a failure for a day are forgotten.
        migrator.registerMigration("v24") { db in
            try db.execute(
                sql: """
                    CREATE TABLE console_sign_in_failures (
                        name TEXT NOT NULL CHECK (length(CAST(name AS BLOB)) <= 200),
                        address TEXT NOT NULL CHECK (length(CAST(address AS BLOB)) <= 200),
                        failures INTEGER NOT NULL CHECK (failures > 0),
                        last_failure_at TEXT NOT NULL,
                        locked_until TEXT,
                        PRIMARY KEY (name, address)
                    );
                    CREATE INDEX console_sign_in_failures_by_last ON console_sign_in_failures(last_failure_at);
                    """)
        }
        return migrator
    }

    /// The names of the migrations this build knows, oldest first.
    public static var knownMigrations: [String] { migrator.migrations }

    /// The first schema: tenants, calls, consent events, recordings, paused spans, jobs,
    /// transcripts and the append-only audit log.
    ///
    /// Rules that protect a guarantee are CHECK constraints as well as API checks, so a bug or a
    /// hand-written `sqlite3` session cannot break them: voice retention ≤ 90 days, a recording's
    /// tenant equals its call's tenant (composite foreign key), audit rows cannot be changed.
    private static func createSchemaV1(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE tenants (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
                    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
                    consent_mode TEXT NOT NULL DEFAULT 'opt-in'
                        CHECK (consent_mode IN ('opt-in', 'opt-out', 'not-required')),
                    require_disclosure INTEGER NOT NULL DEFAULT 0 CHECK (require_disclosure IN (0, 1)),
                    consent_digit TEXT CHECK (consent_digit IS NULL OR
                        (length(consent_digit) = 1 AND instr('0123456789*#ABCD', consent_digit) > 0)),
                    optout_digit TEXT CHECK (optout_digit IS NULL OR
                        (length(optout_digit) = 1 AND instr('0123456789*#ABCD', optout_digit) > 0)),
                    voice_days INTEGER NOT NULL DEFAULT 90 CHECK (voice_days BETWEEN 1 AND 90),
                    transcript_days INTEGER NOT NULL DEFAULT 365 CHECK (transcript_days >= 1),
                    codec TEXT NOT NULL DEFAULT 'native'
                        CHECK (codec IN ('native', 'opus', 'pcm16', 'g711u', 'g711a')),
                    phone_hash_key BLOB NOT NULL CHECK (length(phone_hash_key) = 32),
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );

                CREATE TABLE calls (
                    id TEXT PRIMARY KEY NOT NULL,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id),
                    external_id TEXT NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
                    started_at TEXT NOT NULL,
                    ended_at TEXT,
                    caller_hash BLOB CHECK (caller_hash IS NULL OR length(caller_hash) = 32),
                    caller_encrypted BLOB,
                    UNIQUE (tenant_id, external_id),
                    UNIQUE (id, tenant_id)
                );
                CREATE INDEX calls_by_tenant ON calls(tenant_id, started_at);
                CREATE INDEX calls_by_caller ON calls(tenant_id, caller_hash) WHERE caller_hash IS NOT NULL;

                CREATE TABLE consent_events (
                    id INTEGER PRIMARY KEY,
                    call_id TEXT NOT NULL REFERENCES calls(id),
                    kind TEXT NOT NULL
                        CHECK (kind IN ('disclosure', 'consent', 'deny', 'revoke', 'pause', 'resume')),
                    method TEXT NOT NULL CHECK (method IN ('api', 'dtmf', 'verbal', 'inband', 'pipeline')),
                    at TEXT NOT NULL,
                    frame_index INTEGER CHECK (frame_index IS NULL OR frame_index >= 0),
                    timeline_ms INTEGER CHECK (timeline_ms IS NULL OR timeline_ms >= 0)
                );
                CREATE INDEX consent_events_by_call ON consent_events(call_id, id);

                CREATE TABLE recordings (
                    id TEXT PRIMARY KEY NOT NULL,
                    call_id TEXT NOT NULL,
                    tenant_id TEXT NOT NULL,
                    track TEXT NOT NULL CHECK (track IN ('caller', 'bot')),
                    state TEXT NOT NULL DEFAULT 'recording'
                        CHECK (state IN ('recording', 'complete', 'interrupted', 'shredded')),
                    codec TEXT NOT NULL CHECK (codec IN ('opus', 'pcm16', 'g711u', 'g711a')),
                    sample_rate INTEGER NOT NULL CHECK (sample_rate > 0),
                    duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
                    bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    hold INTEGER NOT NULL DEFAULT 0 CHECK (hold IN (0, 1)),
                    hold_reason TEXT,
                    restricted INTEGER NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1)),
                    path TEXT NOT NULL,
                    shredded_at TEXT,
                    FOREIGN KEY (call_id, tenant_id) REFERENCES calls(id, tenant_id)
                );
                CREATE INDEX recordings_by_call ON recordings(call_id);
                CREATE INDEX recordings_by_tenant ON recordings(tenant_id, created_at);
                CREATE INDEX recordings_by_expiry ON recordings(expires_at) WHERE state <> 'shredded';

                CREATE TABLE paused_spans (
                    id INTEGER PRIMARY KEY,
                    call_id TEXT NOT NULL REFERENCES calls(id),
                    recording_id TEXT REFERENCES recordings(id),
                    start_ms INTEGER NOT NULL CHECK (start_ms >= 0),
                    end_ms INTEGER CHECK (end_ms IS NULL OR end_ms >= start_ms)
                );
                CREATE INDEX paused_spans_by_call ON paused_spans(call_id, start_ms);

                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY NOT NULL,
                    call_id TEXT NOT NULL,
                    recording_id TEXT REFERENCES recordings(id),
                    tenant_id TEXT NOT NULL,
                    engine TEXT NOT NULL CHECK (length(engine) BETWEEN 1 AND 100),
                    state TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead', 'cancelled')),
                    priority INTEGER NOT NULL DEFAULT 0,
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    lease_owner TEXT,
                    lease_expires_at TEXT,
                    run_after TEXT NOT NULL,
                    last_error TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    UNIQUE (call_id, engine),
                    FOREIGN KEY (call_id, tenant_id) REFERENCES calls(id, tenant_id)
                );
                CREATE INDEX jobs_claimable ON jobs(state, run_after, priority);

                CREATE TABLE transcripts (
                    id TEXT PRIMARY KEY NOT NULL,
                    call_id TEXT NOT NULL,
                    tenant_id TEXT NOT NULL,
                    engine TEXT NOT NULL,
                    path TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'complete' CHECK (state IN ('complete', 'shredded')),
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    shredded_at TEXT,
                    FOREIGN KEY (call_id, tenant_id) REFERENCES calls(id, tenant_id)
                );
                CREATE INDEX transcripts_by_call ON transcripts(call_id);
                CREATE INDEX transcripts_by_expiry ON transcripts(expires_at) WHERE state <> 'shredded';

                CREATE TABLE audit_log (
                    seq INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    tenant_id TEXT,
                    subject_id TEXT,
                    details TEXT NOT NULL DEFAULT '{}',
                    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
                    hash BLOB NOT NULL CHECK (length(hash) = 32)
                );
                CREATE INDEX audit_log_by_tenant ON audit_log(tenant_id, seq);
                CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN
                    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
                END;
                CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN
                    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted');
                END;
                """
        )
    }
}
