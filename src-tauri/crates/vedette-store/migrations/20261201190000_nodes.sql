-- Nodes: machines whose agent enrolled with an enrolment token. A node is a
-- target of kind `node` (its scans come from the inventories it sends);
-- its credential, like a token, is kept only as a hash. The CHECK on
-- `targets.kind` (and on `credentials.kind`, for the cloud account's
-- credential) is widened as in 20261201100000; the CREATE TABLEs below bump
-- the schema version.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, '''archive'', ''sbom'')', '''archive'', ''sbom'', ''node'')')
 WHERE type = 'table' AND name = 'targets';
UPDATE sqlite_master
   SET sql = replace(sql, 'CHECK (kind IN (''registry'', ''feed_mirror'', ''host''))', 'CHECK (kind IN (''registry'', ''feed_mirror'', ''host'', ''cloud''))')
 WHERE type = 'table' AND name = 'credentials';
PRAGMA writable_schema = OFF;

CREATE TABLE enrol_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    max_uses INTEGER NOT NULL CHECK (max_uses > 0),
    uses INTEGER NOT NULL DEFAULT 0,
    grp TEXT,
    exposure TEXT NOT NULL DEFAULT 'internal' CHECK (exposure IN ('internal', 'internet')),
    revoked_at TEXT
);
CREATE UNIQUE INDEX enrol_tokens_live_name ON enrol_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE nodes (
    target_id INTEGER PRIMARY KEY REFERENCES targets (id) ON DELETE CASCADE,
    machine_id TEXT NOT NULL UNIQUE,
    facts TEXT NOT NULL,
    instance_id TEXT,
    credential_hash BLOB NOT NULL UNIQUE,
    token_id INTEGER REFERENCES enrol_tokens (id),
    enrolled_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    revoked_at TEXT
);

-- The gate: one row. Its policy is `gate-policy.toml` in the data dir.
CREATE TABLE gate (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    action TEXT NOT NULL DEFAULT 'notify' CHECK (action IN ('notify', 'stop', 'terminate')),
    armed_by TEXT,
    armed_at TEXT,
    cap_per_hour INTEGER NOT NULL DEFAULT 5 CHECK (cap_per_hour >= 0)
);
INSERT INTO gate (id) VALUES (1);

-- What the gate decided and did: appended, never changed or removed (not
-- even with the node's target).
CREATE TABLE gate_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    node TEXT NOT NULL,
    instance_id TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('done', 'not_acted', 'failed')),
    reason TEXT NOT NULL,
    armed_by TEXT,
    scan_id INTEGER,
    answer TEXT
);
CREATE INDEX gate_actions_at ON gate_actions (at);
CREATE TRIGGER gate_actions_no_update BEFORE UPDATE ON gate_actions
BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;
CREATE TRIGGER gate_actions_no_delete BEFORE DELETE ON gate_actions
BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;
