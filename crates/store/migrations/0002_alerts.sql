-- Alerts: raised when a distributor's risk level rises. Append-only, except the
-- delivery columns, which record the webhook attempt.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    raised_at     TEXT NOT NULL,              -- wall clock
    as_of         TEXT NOT NULL,              -- the date the level was assessed for
    distributor   TEXT NOT NULL,
    from_level    TEXT NOT NULL,
    to_level      TEXT NOT NULL,
    body          TEXT NOT NULL,              -- the assessment as JSON (what is POSTed)
    delivered_at  TEXT,
    delivery_note TEXT
);
CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are kept'); END;
