-- Groups of targets ("production", "team-shop"): schedules select by group,
-- trends are drawn per group. Images found by crawling a registry target
-- point at it (and go with it).
ALTER TABLE targets ADD COLUMN group_name TEXT;
ALTER TABLE targets ADD COLUMN parent_id INTEGER REFERENCES targets (id) ON DELETE CASCADE;
CREATE INDEX targets_by_parent ON targets (parent_id);
