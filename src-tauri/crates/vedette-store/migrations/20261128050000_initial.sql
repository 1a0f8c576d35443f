-- Targets: what Vedette watches. `spec` holds the kind-specific settings as JSON
-- (registry selector, SSH host options, ...) so later kinds need no new table.
CREATE TABLE targets (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('image', 'registry', 'host', 'directory', 'archive', 'sbom')),
    name        TEXT    NOT NULL,
    spec        TEXT    NOT NULL DEFAULT '{}',
    exposure    TEXT    NOT NULL DEFAULT 'internal' CHECK (exposure IN ('internal', 'internet')),
    created_at  TEXT    NOT NULL,
    UNIQUE (kind, name)
);

-- Credential references: names only. The secret itself lives in the OS keyring
-- under service "vedette" and account `name`; it is never written here.
CREATE TABLE credentials (
    name        TEXT    PRIMARY KEY NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('registry')),
    host        TEXT    NOT NULL,
    username    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- Scans: one row per scan of one target. A scan still 'running' when the
-- process starts was interrupted and is marked so.
CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    target_id   INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')),
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    error       TEXT
);

CREATE INDEX scans_by_target ON scans (target_id, started_at DESC);
