-- The audit log: who, when, from where, what (entity, id, before → after) for every
-- write, sign-in, failed sign-in, export and unmasking. Append-only: triggers refuse
-- UPDATE and DELETE from the application side, and each row carries the SHA-256 of
-- the previous row (prev_hash) and of itself (hash) so a change made outside the app
-- is detected by `dealerdesk audit verify`.

-- +goose Up
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    user_id     INTEGER,
    user_name   TEXT NOT NULL DEFAULT '',
    api_key_id  INTEGER,
    ip          TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL DEFAULT '',
    entity_id   TEXT NOT NULL DEFAULT '',
    store_id    INTEGER,
    before_json TEXT,
    after_json  TEXT,
    result      TEXT NOT NULL DEFAULT 'ok',
    request_id  TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;
-- audit list filters, each with keyset on id (newest first)
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id); -- one record's history
CREATE INDEX audit_log_entity_kind ON audit_log (entity, id);          -- all rows of an entity type
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_store ON audit_log (store_id, id);
-- date ranges: at never decreases as id grows (audit.Write keeps it so), so a
-- range of times maps to a range of ids found with two seeks on this index
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
