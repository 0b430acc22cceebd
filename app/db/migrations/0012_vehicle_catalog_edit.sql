-- Catalogue editing (DOMAIN.md S3): brands and series can be retired (active),
-- every catalogue row carries an optimistic-lock version (PUT with a stale
-- version answers 409 conflict.stale), and a model lists its factory options and
-- packages with a price (and, for roles with cost.read, a cost).

-- +goose Up
ALTER TABLE vehicle_brand ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
ALTER TABLE vehicle_brand ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vehicle_brand ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

ALTER TABLE vehicle_series ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
ALTER TABLE vehicle_series ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vehicle_series ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

ALTER TABLE vehicle_model ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vehicle_model ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

-- A factory model code names one model: the import matches rows to models by it.
-- Until now nothing wrote codes (0011 added the column with ''), so the unique
-- index cannot meet duplicates; it replaces 0011's plain index of the same use.
DROP INDEX vehicle_model_code;
-- Import and model edit: match / check a model code (unique when given).
CREATE UNIQUE INDEX vehicle_model_code ON vehicle_model (code) WHERE code <> '';

-- Factory options and packages of a model (选装/选装包), replaced as a whole list.
CREATE TABLE vehicle_option (
    id       INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES vehicle_model (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    price    INTEGER NOT NULL DEFAULT 0 CHECK (price >= 0), -- fen, to the customer
    cost     INTEGER CHECK (cost >= 0),                     -- fen; NULL: unknown
    UNIQUE (model_id, name)
) STRICT;
-- The model's options are read through UNIQUE (model_id, name); no further index.
-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
