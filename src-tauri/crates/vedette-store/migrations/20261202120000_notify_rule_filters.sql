-- Notification rules also filter by a minimum risk score and by a glob on
-- the target's name.
ALTER TABLE notify_rules ADD COLUMN min_risk REAL;
ALTER TABLE notify_rules ADD COLUMN target_glob TEXT;
