-- History: what each scan found, judged against which feeds, and what changed
-- since the previous scan of the same target.

-- manual (CLI or window), schedule, rematch (a feed update matched again
-- against the stored inventory).
ALTER TABLE scans ADD COLUMN trigger TEXT NOT NULL DEFAULT 'manual'
    CHECK (trigger IN ('manual', 'schedule', 'rematch'));
ALTER TABLE scans ADD COLUMN schedule_id INTEGER;
ALTER TABLE scans ADD COLUMN digest TEXT;
-- sha256 over the versions of the feeds matched against.
ALTER TABLE scans ADD COLUMN feed_version TEXT;
ALTER TABLE scans ADD COLUMN exposure TEXT;
ALTER TABLE scans ADD COLUMN verdict_pass INTEGER;
ALTER TABLE scans ADD COLUMN duration_ms INTEGER;
-- The ScanReport without its findings (verdict, feeds, warnings), as JSON.
ALTER TABLE scans ADD COLUMN report TEXT;

-- One row per finding of a scan. `key` names the vulnerability in the
-- package across scans (CVE or advisory id, ecosystem, package name), so a
-- diff is a set difference. `cause` is set on findings that are new in this
-- scan: first_scan, feed_update, inventory_change, exposure_change.
CREATE TABLE findings (
    scan_id       INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    key           TEXT    NOT NULL,
    vuln_id       TEXT    NOT NULL,
    package       TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    risk          REAL    NOT NULL,
    kev           INTEGER NOT NULL,
    fixed_version TEXT,
    cause         TEXT,
    body          TEXT    NOT NULL,
    PRIMARY KEY (scan_id, key)
);

CREATE INDEX findings_by_key ON findings (key);
