-- Notifications. Channels keep only what is not secret (a webhook's URL
-- when it holds no token, a mail server's address); secrets live in the
-- keyring under `notify/<name>`.
CREATE TABLE notify_channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('desktop', 'slack', 'teams', 'webhook', 'email')),
    settings TEXT NOT NULL DEFAULT '{}',
    has_secret INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    failing_since TEXT,
    last_error TEXT
);

CREATE TABLE notify_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES notify_channels (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    min_severity TEXT,
    kev_only INTEGER NOT NULL DEFAULT 0,
    grp TEXT,
    digest TEXT,
    timezone TEXT,
    -- A digest rule: when its last digest was made (its events since then
    -- are in notify_digest_items).
    last_digest_at TEXT,
    created_at TEXT NOT NULL
);

-- How far the event log has been read into messages: one row.
CREATE TABLE notify_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    event_id INTEGER NOT NULL
);
-- A new data dir starts at the end of its event log (nothing before the
-- first rule is sent).
INSERT INTO notify_cursor (id, event_id) VALUES (1, COALESCE((SELECT MAX(id) FROM events), 0));

-- The events a digest rule will sum up at its next time.
CREATE TABLE notify_digest_items (
    rule_id INTEGER NOT NULL REFERENCES notify_rules (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (rule_id, event_id)
);

-- The outbox and the delivery log: a message is written with the cursor
-- that read its events, in one transaction, and sent from here.
CREATE TABLE notify_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES notify_channels (id) ON DELETE CASCADE,
    rule_id INTEGER,
    digest INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    -- A process sending it holds it until then.
    lease_until TEXT,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX notify_outbox_due ON notify_outbox (state, next_attempt_at);
