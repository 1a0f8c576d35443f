-- The pace of requests to each registry that has a rate limit, shared by
-- every worker: the newest slot reserved, in microseconds since the epoch.
CREATE TABLE registry_pace (
    registry TEXT PRIMARY KEY NOT NULL,
    next_at  INTEGER NOT NULL
);
