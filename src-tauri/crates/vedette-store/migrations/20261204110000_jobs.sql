-- Scan jobs: a scheduler's run queues one per target; workers (on this or
-- other machines sharing a PostgreSQL) claim them with a lease.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run         TEXT NOT NULL,
    target_id   INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    schedule_id INTEGER,
    registry    TEXT,
    hints       TEXT NOT NULL DEFAULT '{}',
    state       TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    worker      TEXT,
    previous    TEXT,
    lease_until TEXT,
    enqueued_at TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    scan_id     INTEGER,
    error       TEXT
);
CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE INDEX jobs_by_run ON jobs (run);
