-- Which process runs a scan ("<hostname> <pid>"): with a shared database,
-- only the machine that ran a scan can tell that its process died.
ALTER TABLE scans ADD COLUMN runner TEXT;
