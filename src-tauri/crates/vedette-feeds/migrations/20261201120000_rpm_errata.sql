-- What rpm distributions' errata carry beside their ranges:
-- the distribution's own rating of an advisory (AlmaLinux's "Important",
-- Ubuntu's priority, Debian's urgency), the CVEs an erratum fixes without
-- being about one of them (AlmaLinux names them `related`, not aliases),
-- and the module streams an entry is about ("nodejs:18"; "*" when the
-- fixed version is modular but the record does not say which stream).
ALTER TABLE advisory ADD COLUMN vendor_severity TEXT;
ALTER TABLE advisory ADD COLUMN related TEXT NOT NULL DEFAULT '[]';
ALTER TABLE affected ADD COLUMN module TEXT NOT NULL DEFAULT '';

-- Records indexed before this carry none of it: the next update downloads
-- every OSV feed again instead of being told it has not changed.
UPDATE feed SET etag = NULL, last_modified = NULL WHERE name LIKE 'osv/%';
