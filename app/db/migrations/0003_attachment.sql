-- Uploaded files (licence photos, car and damage photos, documents). The bytes live
-- under <data>/files/<sha256 prefix>/<sha256>; a row ties them to the record they
-- belong to, and access follows that record's permissions.

-- +goose Up
CREATE TABLE attachment (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES store (id),
    entity     TEXT NOT NULL,
    entity_id  INTEGER NOT NULL,
    name       TEXT NOT NULL,
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= 0),
    sha256     TEXT NOT NULL,
    thumb_sha256 TEXT,
    width      INTEGER NOT NULL DEFAULT 0,
    height     INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER
) STRICT;
-- list attachments of a record
CREATE INDEX attachment_entity ON attachment (entity, entity_id, id);

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
