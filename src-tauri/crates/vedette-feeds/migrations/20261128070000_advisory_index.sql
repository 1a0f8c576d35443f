-- The local advisory index: OSV records reduced to what matching needs, and
-- the enrichment feeds. Lives in feeds.db, apart from the history, so an
-- import never holds the main database's write lock.

CREATE TABLE feed (
    name TEXT PRIMARY KEY NOT NULL,        -- osv/Debian, kev, epss, nvd
    source TEXT NOT NULL,                  -- URL or file last read
    etag TEXT,
    last_modified TEXT,
    records INTEGER NOT NULL DEFAULT 0,
    skipped TEXT NOT NULL DEFAULT '{}',    -- JSON: reason -> count
    checked_at TEXT NOT NULL,              -- last successful check (RFC 3339)
    updated_at TEXT NOT NULL,              -- last content change
    version TEXT NOT NULL                  -- sha256 of the content
) STRICT;

CREATE TABLE advisory (
    id TEXT PRIMARY KEY NOT NULL,
    feed TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    aliases TEXT NOT NULL DEFAULT '[]',    -- JSON array
    published TEXT,
    modified TEXT NOT NULL,
    cvss3 TEXT,                            -- vector
    cvss4 TEXT,
    label TEXT                             -- the record's own severity label
) STRICT;
CREATE INDEX advisory_feed ON advisory(feed);

CREATE TABLE affected (
    advisory_id TEXT NOT NULL,
    feed TEXT NOT NULL,
    ecosystem TEXT NOT NULL,               -- Debian, PyPI (no release)
    release TEXT NOT NULL DEFAULT '',      -- 12, v3.19, 22.04:LTS
    name TEXT NOT NULL,                    -- normalised for the ecosystem
    ranges TEXT NOT NULL DEFAULT '[]',     -- JSON: [{"type","events":[{"introduced":…}]}]
    versions TEXT NOT NULL DEFAULT '[]'    -- JSON array
) STRICT;
CREATE INDEX affected_lookup ON affected(ecosystem, name);
CREATE INDEX affected_feed ON affected(feed);

-- Every id and alias of an advisory, to find other records of one CVE.
CREATE TABLE alias (
    alias TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    feed TEXT NOT NULL
) STRICT;
CREATE INDEX alias_lookup ON alias(alias);
CREATE INDEX alias_feed ON alias(feed);

CREATE TABLE kev (
    cve TEXT PRIMARY KEY NOT NULL,
    date_added TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    ransomware TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

CREATE TABLE epss (
    cve TEXT PRIMARY KEY NOT NULL,
    score REAL NOT NULL,
    percentile REAL NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE nvd (
    cve TEXT NOT NULL,
    version TEXT NOT NULL,
    vector TEXT NOT NULL,
    score REAL NOT NULL,
    source TEXT NOT NULL,
    feed TEXT NOT NULL,                    -- nvd/<file>: the yearly or modified file that said it
    PRIMARY KEY (cve, feed)
) STRICT, WITHOUT ROWID;
