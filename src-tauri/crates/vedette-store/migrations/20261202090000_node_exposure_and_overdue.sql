-- The targets whose exposure the user set: it wins over what Vedette
-- infers (a node's listening ports and security groups). A table of its
-- own rather than a column: `targets`' CREATE text was rewritten in place
-- by 20261201190000, and SQLite's ADD COLUMN on it would splice at offsets
-- of the text it parsed before, within the same run of migrations.
CREATE TABLE exposure_pins (
    target_id INTEGER PRIMARY KEY REFERENCES targets (id) ON DELETE CASCADE,
    pinned_at TEXT NOT NULL
);
-- When a node was judged for having no verdict within the gate policy's
-- max_age_minutes_without_verdict (once per node).
ALTER TABLE nodes ADD COLUMN overdue_at TEXT;
