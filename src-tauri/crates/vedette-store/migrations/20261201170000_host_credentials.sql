-- A host's SSH key or password is a credential like a registry's: its
-- secret in the keyring under `host/user@host[:port]`, its name here.
-- As in 20261201100000: the CHECK is rewritten in the schema (every stored
-- row satisfies the wider one), and the CREATE INDEX below bumps the schema
-- version so every connection reads the new definition.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, 'CHECK (kind IN (''registry'', ''feed_mirror''))', 'CHECK (kind IN (''registry'', ''feed_mirror'', ''host''))')
 WHERE type = 'table' AND name = 'credentials';
PRAGMA writable_schema = OFF;

CREATE INDEX credentials_by_kind ON credentials (kind);
