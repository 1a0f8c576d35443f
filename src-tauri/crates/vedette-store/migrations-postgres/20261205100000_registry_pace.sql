-- The pace of requests to each registry that has a rate limit, shared by
-- every worker: the newest slot reserved, in microseconds since the epoch
-- by the database's clock.
CREATE TABLE registry_pace (
    registry TEXT PRIMARY KEY,
    next_at  BIGINT NOT NULL
);
