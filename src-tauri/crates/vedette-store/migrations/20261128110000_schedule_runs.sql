-- A schedule being run holds a claim, so one schedule never runs twice at
-- once (the `vedette serve` loop and `vedette schedule run` in another shell).
ALTER TABLE schedules ADD COLUMN running_since TEXT;

-- The process running a scan: at start-up only scans whose process is gone
-- are marked interrupted (a `vedette scan` must not mark the scans of a
-- running `vedette serve`).
ALTER TABLE scans ADD COLUMN pid INTEGER;
