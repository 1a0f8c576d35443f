-- How a target's image is reached, remembered from when it was added or
-- first scanned so every later scan (a schedule's, the window's) does the
-- same: its registry over plain HTTP or unverified TLS, and the platform
-- picked from a multi-platform image (NULL: linux/amd64).
ALTER TABLE targets ADD COLUMN insecure INTEGER NOT NULL DEFAULT 0 CHECK (insecure IN (0, 1));
ALTER TABLE targets ADD COLUMN platform TEXT;
