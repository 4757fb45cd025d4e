-- backstock store on PostgreSQL, schema version 2: a label's settings.
--
-- What a label keeps beside its journal (its name, its "today" for a demo, risk
-- thresholds, statement mappings, a webhook): key → value, per label, under the same
-- row-level security. Settings are not history: a setting is replaced, so
-- backstock_app may UPDATE them (never DELETE: a setting is set to another value).

CREATE TABLE settings (
    label text NOT NULL,
    key   text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (label, key)
);
ALTER TABLE settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE settings FORCE ROW LEVEL SECURITY;
CREATE POLICY label_scope ON settings
    USING (label = current_setting('app.label', true))
    WITH CHECK (label = current_setting('app.label', true));
GRANT SELECT, INSERT, UPDATE ON settings TO backstock_app;
