-- Enrichment sources (KEV, EPSS, NVD) that failed to answer. A scan does
-- not try such a source again until its retry delay has passed, so an
-- unreachable NVD costs one try an hour, not minutes on every scan.
CREATE TABLE source_failure (
    source TEXT PRIMARY KEY NOT NULL,      -- kev, epss, nvd
    failed_at TEXT NOT NULL,               -- RFC 3339
    error TEXT NOT NULL
) STRICT;
