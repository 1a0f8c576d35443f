-- Schedules: when Vedette scans by itself. `selector` and `options` are JSON
-- (vedette_model::TargetSelector, ScheduleOptions).
CREATE TABLE schedules (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    cron           TEXT    NOT NULL,
    timezone       TEXT    NOT NULL DEFAULT 'local',
    selector       TEXT    NOT NULL DEFAULT '{}',
    options        TEXT    NOT NULL DEFAULT '{}',
    enabled        INTEGER NOT NULL DEFAULT 0,
    system         INTEGER NOT NULL DEFAULT 0,
    catch_up       INTEGER NOT NULL DEFAULT 1,
    jitter_seconds INTEGER NOT NULL DEFAULT 0 CHECK (jitter_seconds >= 0),
    last_run_at    TEXT,
    created_at     TEXT    NOT NULL
);

-- Created on first run, disabled: one click (or `vedette schedule enable 1`)
-- turns it on. Mondays at 03:00, local time.
INSERT INTO schedules (name, cron, timezone, selector, options, enabled, system, catch_up, jitter_seconds, created_at)
VALUES ('Weekly scan of all containers and hosts', '0 3 * * 1', 'local', '{}', '{}', 0, 1, 1, 300,
        strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
