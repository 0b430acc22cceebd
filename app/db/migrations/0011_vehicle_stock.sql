-- Vehicle stock (DOMAIN.md I1): one row per VIN, its status history, and the
-- model codes factory allocation sheets name. The invariants live here: a VIN is
-- unique across the group, a status is one of six, a reserved car has a customer
-- and an expiry, a sold car keeps its customer. Reservation and sale are
-- conditional UPDATEs (… WHERE id = ? AND status = 'in_stock') checked by their
-- affected-row count, so two requests can never both win a car.
-- Every filter and sort of the stock list has its index, named after the query it
-- serves (the list must stay fast at 100,000 vehicles).

-- +goose Up
-- The factory's model code (车型代码) as allocation sheets print it; '' when unknown.
ALTER TABLE vehicle_model ADD COLUMN code TEXT NOT NULL DEFAULT '';

-- Import: match a sheet's model code to a model.
CREATE INDEX vehicle_model_code ON vehicle_model (code) WHERE code <> '';

CREATE TABLE vehicle (
    id                   INTEGER PRIMARY KEY,
    store_id             INTEGER NOT NULL REFERENCES store (id),
    vin                  TEXT NOT NULL UNIQUE CHECK (length(vin) = 17),
    vin_rev              TEXT NOT NULL,                        -- vin reversed: "last 6" is a range on it
    model_id             INTEGER NOT NULL REFERENCES vehicle_model (id),
    color                TEXT NOT NULL DEFAULT '',
    options              TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL CHECK (status IN ('ordered', 'in_transit', 'in_stock', 'reserved', 'sold', 'delivered')),
    location             TEXT NOT NULL DEFAULT '',             -- 库位
    arrival_at           INTEGER,                              -- NULL until in stock
    expected_at          INTEGER,                              -- 预计到店, from allocation sheets
    sold_at              INTEGER,                              -- ends the days in stock
    cost                 INTEGER CHECK (cost >= 0),            -- fen; NULL: unknown
    msrp                 INTEGER NOT NULL CHECK (msrp >= 0),   -- fen
    reserved_customer_id INTEGER REFERENCES customer (id),     -- the reserving (or buying) customer
    reserved_by          INTEGER REFERENCES app_user (id),
    reserved_until       INTEGER,
    order_id             INTEGER,                              -- the sales order holding the car (sales module)
    age_alerted          INTEGER NOT NULL DEFAULT 0 CHECK (age_alerted IN (0, 1, 2)), -- ageing thresholds already announced
    note                 TEXT NOT NULL DEFAULT '',
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           INTEGER NOT NULL,
    created_by           INTEGER REFERENCES app_user (id),
    updated_at           INTEGER NOT NULL,
    updated_by           INTEGER REFERENCES app_user (id),
    CHECK (status <> 'reserved' OR (reserved_customer_id IS NOT NULL AND reserved_until IS NOT NULL)),
    CHECK (status NOT IN ('sold', 'delivered') OR reserved_customer_id IS NOT NULL),
    CHECK (status NOT IN ('ordered', 'in_transit') OR arrival_at IS NULL)
) STRICT;

-- List: "last 6–8 VIN characters" (vin_rev >= ? AND vin_rev < ?), and the global search's load.
CREATE INDEX vehicle_vin_rev ON vehicle (vin_rev);
-- List: a store's stock, newest first (the default sort), keyset on id.
CREATE INDEX vehicle_store_id ON vehicle (store_id, id);
-- List: a store's stock by status (status=… or status IN (…)), newest first.
CREATE INDEX vehicle_store_status ON vehicle (store_id, status, id);
-- List: sort by days in stock / arrival (and the age buckets, a range on arrival_at) within a store.
CREATE INDEX vehicle_store_arrival ON vehicle (store_id, arrival_at, id) WHERE arrival_at IS NOT NULL;
-- List: sort by MSRP within a store.
CREATE INDEX vehicle_store_msrp ON vehicle (store_id, msrp, id);
-- List (group roles, no store chosen): by status, newest first.
CREATE INDEX vehicle_status ON vehicle (status, id);
-- List (group roles): sort by days in stock / arrival across stores.
CREATE INDEX vehicle_arrival ON vehicle (arrival_at, id) WHERE arrival_at IS NOT NULL;
-- List: model / series / brand filters (model_id IN (…)), and "how many of this model in stock".
CREATE INDEX vehicle_model_status ON vehicle (model_id, status);
-- Expiry job: reservations past reserved_until.
CREATE INDEX vehicle_reserved_until ON vehicle (reserved_until) WHERE status = 'reserved';
-- Ageing job: cars in stock or reserved that arrived before a threshold and are not yet announced.
CREATE INDEX vehicle_ageing ON vehicle (arrival_at) WHERE status IN ('in_stock', 'reserved') AND age_alerted < 2;
-- A customer's cars (reserved/bought), e.g. the customer page.
CREATE INDEX vehicle_customer ON vehicle (reserved_customer_id) WHERE reserved_customer_id IS NOT NULL;
-- The sales module: the car of an order.
CREATE INDEX vehicle_order ON vehicle (order_id) WHERE order_id IS NOT NULL;

-- Every status change of a vehicle (and its creation), oldest first on the detail page.
CREATE TABLE vehicle_event (
    id          INTEGER PRIMARY KEY,
    vehicle_id  INTEGER NOT NULL REFERENCES vehicle (id),
    at          INTEGER NOT NULL,
    by          INTEGER REFERENCES app_user (id),    -- NULL: the system (a job, an import by API key)
    by_name     TEXT NOT NULL DEFAULT '',
    from_status TEXT NOT NULL DEFAULT '',            -- '' on creation
    to_status   TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
) STRICT;

-- Detail page: a vehicle's history.
CREATE INDEX vehicle_event_vehicle ON vehicle_event (vehicle_id, at, id);
-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
