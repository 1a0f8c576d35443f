-- How far an unfinished crawl of a registry repository got: every tag up to
-- `done_up_to` (in lexical order) was read, and is in registry_tags with a
-- seen_at from `began` on. A crawl cut off (a crash, an expired token)
-- resumes after it; a crawl that reads the repository to its end deletes
-- the row, and the tags it did not see again.
CREATE TABLE registry_crawl_cursors (
    registry_id INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    repository TEXT NOT NULL,
    done_up_to TEXT NOT NULL,
    began TEXT NOT NULL,
    PRIMARY KEY (registry_id, repository)
);
