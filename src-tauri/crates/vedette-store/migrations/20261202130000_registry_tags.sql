-- What the last crawl of a registry target found for each tag: the digest
-- a HEAD of its manifest answered, the platform manifest's digest and when
-- the image was built. A tag whose HEAD digest is the same is not read
-- again (neither its manifest nor its config).
CREATE TABLE registry_tags (
    registry_id INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    reference TEXT NOT NULL,
    head_digest TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    created TEXT,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (registry_id, reference)
);
