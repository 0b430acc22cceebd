-- The vehicle catalogue (DOMAIN.md S3): brand → series → model/trim with MSRP and
-- energy type, and the colours a model comes in. Shared by every store of the
-- group; stock, test drives and quotes refer to model ids.

-- +goose Up
CREATE TABLE vehicle_brand (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE vehicle_series (
    id         INTEGER PRIMARY KEY,
    brand_id   INTEGER NOT NULL REFERENCES vehicle_brand (id),
    name       TEXT NOT NULL,
    body_type  TEXT NOT NULL DEFAULT '', -- 轿车, SUV, MPV …
    created_at INTEGER NOT NULL,
    UNIQUE (brand_id, name)
) STRICT;

CREATE TABLE vehicle_model (
    id          INTEGER PRIMARY KEY,
    series_id   INTEGER NOT NULL REFERENCES vehicle_series (id),
    name        TEXT NOT NULL,      -- trim, e.g. 2.0L CVT 豪华版
    model_year  INTEGER NOT NULL CHECK (model_year BETWEEN 1990 AND 2100),
    msrp        INTEGER NOT NULL CHECK (msrp >= 0), -- fen
    energy_type TEXT NOT NULL CHECK (energy_type IN ('ice', 'hev', 'phev', 'bev', 'erev')),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    UNIQUE (series_id, model_year, name)
) STRICT;

CREATE TABLE vehicle_color (
    id       INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES vehicle_model (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    surcharge INTEGER NOT NULL DEFAULT 0 CHECK (surcharge >= 0), -- fen
    UNIQUE (model_id, name)
) STRICT;
-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
