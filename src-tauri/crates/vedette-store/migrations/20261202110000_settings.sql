-- Settings of the data dir that outlive a process: "schedules paused"
-- (the tray, `vedette schedule pause`), honoured by every scheduler.
CREATE TABLE app_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
