-- Which process holds a schedule's run claim ("<hostname> <pid>"): a claim
-- whose process is gone from this machine (killed mid-run) is released by
-- the next claim instead of refusing every run until a scheduler restarts.
ALTER TABLE schedules ADD COLUMN claimed_by TEXT;
