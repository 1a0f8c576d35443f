-- A scan can end `cancelled` (Ctrl-C, the window's Cancel), a target
-- whose scans keep killing the process is quarantined (not retried by the
-- scheduler until the user says so), and a feed mirror can have a
-- credential (its secret in the keyring, like a registry's).
--
-- SQLite cannot alter a CHECK constraint, and rebuilding `scans` needs
-- foreign keys off, which cannot be switched inside the transaction sqlx
-- runs a migration in (and dropping `scans` with them on would cascade to
-- every finding). SQLite documents a simpler way for a change that every
-- stored row already satisfies (allowing one more state is one): rewrite
-- the table's definition in the schema. The ALTER TABLEs below then bump
-- the schema version, so every connection reads the new definition.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, '''failed'', ''interrupted'')', '''failed'', ''interrupted'', ''cancelled'')')
 WHERE type = 'table' AND name = 'scans';
UPDATE sqlite_master
   SET sql = replace(sql, 'CHECK (kind IN (''registry''))', 'CHECK (kind IN (''registry'', ''feed_mirror''))')
 WHERE type = 'table' AND name = 'credentials';
PRAGMA writable_schema = OFF;

-- Set when the target's newest scans were all interrupted; cleared by a
-- retry the user asks for, or by a scan that succeeds.
ALTER TABLE targets ADD COLUMN quarantined_at TEXT;
ALTER TABLE targets ADD COLUMN quarantine_reason TEXT;
