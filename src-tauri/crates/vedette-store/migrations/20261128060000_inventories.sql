-- Inventories: what is installed in a target, keyed by image manifest digest
-- (or a directory's content digest), stored once and re-matched later
-- without pulling again. `extractor_version` says which catalogers made it.
CREATE TABLE inventories (
    id                INTEGER PRIMARY KEY,
    digest            TEXT    NOT NULL,
    extractor_version INTEGER NOT NULL,
    -- The whole inventory as JSON (distro, packages with purls and locations,
    -- image metadata, warnings).
    body              TEXT    NOT NULL,
    package_count     INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    UNIQUE (digest, extractor_version)
);

ALTER TABLE scans ADD COLUMN inventory_id INTEGER REFERENCES inventories (id);
