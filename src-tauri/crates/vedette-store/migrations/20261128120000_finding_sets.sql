-- Findings stored by content. A fleet built from the same base images, and
-- every re-match of an unchanged target, repeat the same findings thousands
-- of times: a scan now points at its set of findings (by the sha256 of the
-- set), each set and each distinct finding (its JSON) is stored once, and
-- only what is new in a scan (with its cause) is written per scan.

CREATE TABLE finding_bodies (
    hash BLOB PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE finding_sets (
    hash  BLOB PRIMARY KEY,
    count INTEGER NOT NULL
) WITHOUT ROWID;

-- `key` names the vulnerability in the package across scans (CVE or
-- advisory id, ecosystem, package name), so a diff is a set difference.
CREATE TABLE finding_set_members (
    set_hash      BLOB    NOT NULL REFERENCES finding_sets (hash),
    key           TEXT    NOT NULL,
    vuln_id       TEXT    NOT NULL,
    package       TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    risk          REAL    NOT NULL,
    kev           INTEGER NOT NULL,
    fixed_version TEXT,
    body_hash     BLOB    NOT NULL REFERENCES finding_bodies (hash),
    PRIMARY KEY (set_hash, key)
) WITHOUT ROWID;

-- Findings new in a scan, with their cause: first_scan, feed_update,
-- inventory_change, exposure_change.
CREATE TABLE scan_new_findings (
    scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    key     TEXT    NOT NULL,
    cause   TEXT    NOT NULL,
    PRIMARY KEY (scan_id, key)
) WITHOUT ROWID;

ALTER TABLE scans ADD COLUMN finding_set BLOB REFERENCES finding_sets (hash);

-- Scans recorded before this migration keep their findings as a set of
-- their own (SQLite has no sha256 to share them by).
INSERT INTO finding_bodies (hash, body)
    SELECT CAST('legacy:' || scan_id || ':' || key AS BLOB), body FROM findings;
INSERT INTO finding_sets (hash, count)
    SELECT CAST('legacy:' || s.id AS BLOB), (SELECT COUNT(*) FROM findings f WHERE f.scan_id = s.id)
    FROM scans s WHERE s.report IS NOT NULL;
INSERT INTO finding_set_members
    SELECT CAST('legacy:' || scan_id AS BLOB), key, vuln_id, package, version, severity, risk, kev,
           fixed_version, CAST('legacy:' || scan_id || ':' || key AS BLOB)
    FROM findings;
INSERT INTO scan_new_findings (scan_id, key, cause)
    SELECT scan_id, key, cause FROM findings WHERE cause IS NOT NULL;
UPDATE scans SET finding_set = CAST('legacy:' || id AS BLOB) WHERE report IS NOT NULL;

DROP TABLE findings;

-- The findings of each scan, as before.
CREATE VIEW findings AS
    SELECT s.id AS scan_id, m.key, m.vuln_id, m.package, m.version, m.severity, m.risk, m.kev,
           m.fixed_version, n.cause, m.body_hash
    FROM scans s
    JOIN finding_set_members m ON m.set_hash = s.finding_set
    LEFT JOIN scan_new_findings n ON n.scan_id = s.id AND n.key = m.key;
