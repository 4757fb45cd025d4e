-- backstock store on PostgreSQL, schema version 4: what a label keeps beside its
-- journal, so that royalty runs, payouts, risk and its alert log work on a label in
-- the database as in a data directory (backstock-store, contract::Beside).
--
-- royalty_statements: one row per payee of a recorded royalty run, the statement's
-- JSON as one zstd frame and its SHA-256 (which the run's hashed journal entry lists).
-- Only statements of runs already in the journal are written here, so every row is
-- history: append-only, as the journal is.
--
-- alerts: the alert log (a distributor's level rose). Append-only, except that the
-- webhook delivery columns may be filled in: backstock_app may UPDATE only those two.
-- The level history's walk mark is kept in `settings` (key alert_log_through).

CREATE TABLE royalty_statements (
    label   text NOT NULL,
    period  text NOT NULL,
    payee   text NOT NULL,
    sha256  text NOT NULL,
    body    bytea NOT NULL,
    PRIMARY KEY (label, period, payee)
);

CREATE TABLE alerts (
    label         text NOT NULL,
    id            bigint NOT NULL,
    raised_at     text NOT NULL,
    as_of         text NOT NULL,
    distributor   text NOT NULL,
    from_level    text NOT NULL,
    to_level      text NOT NULL,
    body          text NOT NULL,
    delivered_at  text,
    delivery_note text,
    PRIMARY KEY (label, id)
);

CREATE FUNCTION backstock_alert_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.label <> OLD.label OR NEW.id <> OLD.id
       OR NEW.raised_at <> OLD.raised_at OR NEW.as_of <> OLD.as_of
       OR NEW.distributor <> OLD.distributor OR NEW.from_level <> OLD.from_level
       OR NEW.to_level <> OLD.to_level OR NEW.body <> OLD.body THEN
        RAISE EXCEPTION 'backstock: alerts are kept as raised (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER royalty_statements_append_only BEFORE UPDATE OR DELETE ON royalty_statements
    FOR EACH ROW EXECUTE FUNCTION backstock_append_only();
CREATE TRIGGER royalty_statements_no_truncate BEFORE TRUNCATE ON royalty_statements
    FOR EACH STATEMENT EXECUTE FUNCTION backstock_append_only();
CREATE TRIGGER alerts_kept BEFORE UPDATE OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION backstock_alert_kept();
CREATE TRIGGER alerts_no_truncate BEFORE TRUNCATE ON alerts
    FOR EACH STATEMENT EXECUTE FUNCTION backstock_append_only();

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['royalty_statements', 'alerts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY label_scope ON %I USING (label = current_setting(''app.label'', true)) WITH CHECK (label = current_setting(''app.label'', true))', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT ON royalty_statements, alerts TO backstock_app;
GRANT UPDATE (delivered_at, delivery_note) ON alerts TO backstock_app;
