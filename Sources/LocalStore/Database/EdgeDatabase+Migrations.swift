import GRDB

extension EdgeDatabase {
    /// The versioned schema. A migration, once released, is never edited: changes are new migrations.
    ///
    /// `tool_executions.turn_id` names the agent turn a tool ran in without a foreign key: that turn's
    /// row is written when its audio has been heard (or cut off), after its tools ran.
    ///
    /// Conventions: every table has an `id` primary key; times are Unix milliseconds UTC in
    /// INTEGER columns named `*_at`; status columns carry a CHECK of their allowed values;
    /// synced tables carry a `version` that grows with every write.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 schema") { db in
            try db.execute(sql: v1Schema)
        }
        migrator.registerMigration("v2 staff messages") { db in
            try db.execute(sql: v2StaffMessages)
        }
        migrator.registerMigration("v3 phrase cache counters") { db in
            try db.execute(sql: v3PhraseCacheCounters)
        }
        migrator.registerMigration("v4 twilio recordings") { db in
            try db.execute(sql: v4TwilioRecordings)
        }
        migrator.registerMigration("v5 sync state") { db in
            try db.execute(sql: v5SyncState)
        }
        migrator.registerMigration("v6 recording uploads") { db in
            try db.execute(sql: v6RecordingUploads)
        }
        migrator.registerMigration("v7 site settings") { db in
            try db.execute(sql: v7SiteSettings)
        }
        migrator.registerMigration("v8 overbooked slots") { db in
            try db.execute(sql: v8OverbookedSlots)
        }
        migrator.registerMigration("v9 daily call summaries") { db in
            try db.execute(sql: v9DailyCallSummaries)
        }
        migrator.registerMigration("v10 admin tokens") { db in
            try db.execute(sql: v10AdminTokens)
        }
        migrator.registerMigration("v11 append-only audit log") { db in
            try db.execute(sql: v11AppendOnlyAuditLog)
        }
        migrator.registerMigration("v12 menu item overrides") { db in
            try db.execute(sql: v12MenuItemOverrides)
        }
        migrator.registerMigration("v13 caller frustration") { db in
            try db.execute(
                sql: """
                    ALTER TABLE conversation_turns ADD COLUMN frustration REAL
                        CHECK (frustration IS NULL OR frustration BETWEEN 0 AND 1)
                    """)
        }
        migrator.registerMigration("v14 local calls") { db in
            try db.execute(
                sql: """
                    ALTER TABLE calls ADD COLUMN source TEXT NOT NULL DEFAULT 'phone'
                        CHECK (source IN ('phone', 'local'))
                    """)
        }
        migrator.registerMigration("v15 voice choices") { db in
            try db.execute(
                sql: """
                    CREATE TABLE voice_choices (
                        language TEXT PRIMARY KEY NOT NULL CHECK (language IN ('en', 'es')),
                        voice_id TEXT NOT NULL CHECK (length(voice_id) BETWEEN 1 AND 100),
                        chosen_by TEXT NOT NULL,
                        chosen_at INTEGER NOT NULL
                    ) STRICT
                    """)
        }
        migrator.registerMigration("v16 text confirmations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE text_confirmations (
                        id TEXT PRIMARY KEY NOT NULL,
                        reservation_id TEXT NOT NULL,
                        call_id TEXT,
                        kind TEXT NOT NULL CHECK (kind IN ('booked', 'changed', 'cancelled')),
                        to_phone TEXT NOT NULL CHECK (to_phone GLOB '+[1-9]*'),
                        language TEXT NOT NULL CHECK (language IN ('en', 'es')),
                        body TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('awaiting_consent', 'pending', 'sent', 'skipped')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        last_error TEXT,
                        provider_id TEXT,
                        created_at INTEGER NOT NULL,
                        sent_at INTEGER
                    ) STRICT;
                    CREATE INDEX text_confirmations_due ON text_confirmations (status, next_attempt_at);
                    CREATE TABLE text_opt_outs (
                        phone TEXT PRIMARY KEY NOT NULL,
                        opted_out_at INTEGER NOT NULL
                    ) STRICT;
                    """)
        }
        return migrator
    }

    private static let v1Schema = """
        CREATE TABLE customers (
            id TEXT PRIMARY KEY NOT NULL,
            phone TEXT NOT NULL UNIQUE CHECK (phone GLOB '+[1-9]*' AND length(phone) BETWEEN 3 AND 16),
            name TEXT,
            preferred_language TEXT CHECK (preferred_language IN ('en', 'es')),
            usual_party_size INTEGER CHECK (usual_party_size > 0),
            call_count INTEGER NOT NULL DEFAULT 0 CHECK (call_count >= 0),
            last_call_at INTEGER,
            notes TEXT,
            version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE calls (
            id TEXT PRIMARY KEY NOT NULL,
            call_sid TEXT NOT NULL UNIQUE,
            from_number TEXT NOT NULL,
            to_number TEXT NOT NULL,
            direction TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'initiated', 'ringing', 'in_progress', 'completed',
                'busy', 'failed', 'no_answer', 'canceled')),
            language TEXT CHECK (language IN ('en', 'es')),
            outcome TEXT,
            started_at INTEGER NOT NULL,
            ended_at INTEGER,
            duration_seconds INTEGER CHECK (duration_seconds >= 0),
            version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX calls_by_start ON calls (started_at);

        CREATE TABLE reservations (
            id TEXT PRIMARY KEY NOT NULL,
            customer_id TEXT REFERENCES customers (id) ON DELETE SET NULL,
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            phone TEXT,
            party_size INTEGER NOT NULL CHECK (party_size > 0),
            starts_at INTEGER NOT NULL,
            duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
            status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'seated', 'completed', 'no_show')),
            source TEXT NOT NULL CHECK (source IN ('phone_agent', 'keypad', 'staff', 'headquarters')),
            notes TEXT,
            call_id TEXT REFERENCES calls (id) ON DELETE SET NULL,
            version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX reservations_by_start ON reservations (starts_at);
        CREATE INDEX reservations_by_phone ON reservations (phone, starts_at);
        CREATE INDEX reservations_by_customer ON reservations (customer_id);

        CREATE TABLE conversation_turns (
            id TEXT PRIMARY KEY NOT NULL,
            call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
            sequence INTEGER NOT NULL CHECK (sequence >= 1),
            speaker TEXT NOT NULL CHECK (speaker IN ('caller', 'agent', 'system')),
            text TEXT NOT NULL,
            language TEXT,
            started_at INTEGER NOT NULL,
            end_of_speech_at INTEGER,
            transcript_final_at INTEGER,
            first_token_at INTEGER,
            first_audio_at INTEGER,
            first_frame_at INTEGER,
            interrupted INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1)),
            unheard_text TEXT,
            UNIQUE (call_id, sequence)
        ) STRICT;

        CREATE TABLE tool_executions (
            id TEXT PRIMARY KEY NOT NULL,
            call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
            turn_id TEXT,
            tool TEXT NOT NULL,
            arguments TEXT NOT NULL,
            result TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
            started_at INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0)
        ) STRICT;
        CREATE INDEX tool_executions_by_call ON tool_executions (call_id);

        CREATE TABLE call_metrics (
            id TEXT PRIMARY KEY NOT NULL,
            call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value REAL NOT NULL,
            recorded_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX call_metrics_by_call ON call_metrics (call_id);

        CREATE TABLE menu_items (
            id TEXT PRIMARY KEY NOT NULL,
            category TEXT NOT NULL,
            price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
            currency TEXT NOT NULL CHECK (length(currency) = 3),
            allergens TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(allergens)),
            dietary_tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(dietary_tags)),
            available INTEGER NOT NULL DEFAULT 1 CHECK (available IN (0, 1)),
            sort_order INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
            updated_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE menu_item_translations (
            id TEXT PRIMARY KEY NOT NULL,
            menu_item_id TEXT NOT NULL REFERENCES menu_items (id) ON DELETE CASCADE,
            language TEXT NOT NULL CHECK (language IN ('en', 'es')),
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            UNIQUE (menu_item_id, language)
        ) STRICT;

        CREATE TABLE recordings (
            id TEXT PRIMARY KEY NOT NULL,
            call_id TEXT NOT NULL REFERENCES calls (id),
            file_name TEXT NOT NULL UNIQUE,
            sealed_key BLOB NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('recording', 'complete', 'partial', 'deleted')),
            started_at INTEGER NOT NULL,
            ended_at INTEGER,
            duration_ms INTEGER CHECK (duration_ms >= 0),
            size_bytes INTEGER CHECK (size_bytes >= 0),
            ciphertext_sha256 TEXT,
            version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)
        ) STRICT;
        CREATE INDEX recordings_by_call ON recordings (call_id);

        CREATE TABLE phrase_cache (
            id TEXT PRIMARY KEY NOT NULL,
            text TEXT NOT NULL,
            language TEXT NOT NULL,
            voice TEXT NOT NULL,
            provider TEXT NOT NULL,
            output_format TEXT NOT NULL,
            size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
            created_at INTEGER NOT NULL,
            last_hit_at INTEGER NOT NULL,
            hit_count INTEGER NOT NULL DEFAULT 0 CHECK (hit_count >= 0),
            pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1))
        ) STRICT;
        CREATE INDEX phrase_cache_by_last_hit ON phrase_cache (pinned, last_hit_at);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            table_name TEXT NOT NULL,
            row_id TEXT NOT NULL,
            operation TEXT NOT NULL CHECK (operation IN ('upsert', 'delete', 'erase')),
            version INTEGER NOT NULL CHECK (version >= 1),
            payload TEXT NOT NULL CHECK (json_valid(payload)),
            created_at INTEGER NOT NULL,
            sent_at INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            last_error TEXT
        ) STRICT;
        CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT,
            details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
        ) STRICT;
        CREATE INDEX audit_log_by_time ON audit_log (at);
        """

    /// Messages callers leave for the staff (`take_message`, keypad key 3).
    private static let v2StaffMessages = """
        CREATE TABLE staff_messages (
            id TEXT PRIMARY KEY NOT NULL,
            call_id TEXT REFERENCES calls (id) ON DELETE SET NULL,
            message TEXT NOT NULL CHECK (length(message) > 0),
            callback_phone TEXT,
            language TEXT,
            status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'read', 'done')),
            created_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX staff_messages_by_status ON staff_messages (status, created_at);
        """

    /// Running totals of the phrase cache (hits per tier, misses, characters not sent to the provider),
    /// kept across restarts for `cache stats`.
    private static let v3PhraseCacheCounters = """
        CREATE TABLE phrase_cache_counters (
            id TEXT PRIMARY KEY NOT NULL,
            value INTEGER NOT NULL DEFAULT 0 CHECK (value >= 0)
        ) STRICT;
        """

    /// Twilio's own recordings: where a recording came from, and the imports Twilio's recording
    /// callbacks asked for (one row per RecordingSid, so a repeated callback imports once, and an
    /// import that failed is retried after a restart).
    private static let v4TwilioRecordings = """
        ALTER TABLE recordings ADD COLUMN source TEXT NOT NULL DEFAULT 'agent'
            CHECK (source IN ('agent', 'twilio'));

        CREATE TABLE twilio_recording_imports (
            id TEXT PRIMARY KEY NOT NULL,
            call_sid TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'imported', 'failed')),
            recording_id TEXT REFERENCES recordings (id),
            deleted_at_twilio INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            last_error TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX twilio_recording_imports_open ON twilio_recording_imports (state, created_at);
        """

    /// What the sync worker last did (success, error, cursors), for `sync status` and `/metrics`.
    private static let v5SyncState = """
        CREATE TABLE sync_state (
            id TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        """

    /// A recording file headquarters has verified and stored, and when the box deleted its own copy
    /// (with `recording.delete_after_upload`).
    private static let v6RecordingUploads = """
        CREATE TABLE recording_uploads (
            recording_id TEXT PRIMARY KEY NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
            sha256 TEXT NOT NULL,
            uploaded_at INTEGER NOT NULL,
            file_deleted_at INTEGER
        ) STRICT;
        """

    /// The booking settings headquarters sent (``SiteSettings`` as JSON), one row.
    private static let v7SiteSettings = """
        CREATE TABLE site_settings (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            changed_at INTEGER NOT NULL,
            row TEXT NOT NULL CHECK (json_valid(row))
        ) STRICT;
        """

    /// Moments when more guests hold seats than there are (after a merge), for staff.
    private static let v8OverbookedSlots = """
        CREATE TABLE overbooked_slots (
            id TEXT PRIMARY KEY NOT NULL,
            moment INTEGER NOT NULL UNIQUE,
            seats_held INTEGER NOT NULL CHECK (seats_held > 0),
            seats INTEGER NOT NULL CHECK (seats > 0),
            reservation_ids TEXT NOT NULL CHECK (json_valid(reservation_ids)),
            detected_at INTEGER NOT NULL,
            resolved_at INTEGER
        ) STRICT;
        CREATE INDEX overbooked_slots_open ON overbooked_slots (moment) WHERE resolved_at IS NULL;
        """

    /// A day of calls rolled up (``DailyCallSummary`` as JSON), synced to headquarters.
    private static let v9DailyCallSummaries = """
        CREATE TABLE daily_call_summaries (
            id TEXT PRIMARY KEY NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            updated_at INTEGER NOT NULL,
            row TEXT NOT NULL CHECK (json_valid(row))
        ) STRICT;
        """

    /// The staff page's and technicians' bearer tokens (``AdminTokens``): only a SHA-256 of each token
    /// and a slow salted hash of its optional PIN are kept.
    private static let v10AdminTokens = """
        CREATE TABLE admin_tokens (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('staff', 'technician')),
            token_hash TEXT NOT NULL UNIQUE,
            pin_hash TEXT,
            created_at INTEGER NOT NULL,
            last_used_at INTEGER,
            revoked_at INTEGER
        ) STRICT;
        """

    /// The audit log only grows: SQLite refuses to change or delete an entry, whoever asks. (Entries
    /// hold no personal data, so a privacy erasure has nothing to remove from it.)
    private static let v11AppendOnlyAuditLog = """
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        """

    /// Staff's "86 the salmon" for the night (``MenuCatalog/setAvailable(itemID:available:actor:)``):
    /// the local availability and the item's version it was set on. A download of that same version
    /// keeps it; a new version from headquarters replaces it (see ``MenuCatalog/merged(_:in:)``).
    private static let v12MenuItemOverrides = """
        CREATE TABLE menu_item_overrides (
            menu_item_id TEXT PRIMARY KEY NOT NULL REFERENCES menu_items (id) ON DELETE CASCADE,
            available INTEGER NOT NULL CHECK (available IN (0, 1)),
            base_version INTEGER NOT NULL,
            set_at INTEGER NOT NULL,
            actor TEXT NOT NULL
        ) STRICT;
        """
}
