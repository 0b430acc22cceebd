-- Test drives (DOMAIN.md S2): the store's test-drive fleet and the bookings of
-- its calendar. The invariants live here:
--   * a plate is unique within a store;
--   * a booking's interval is half-open [start_at, end_at) with end > start, so a
--     drive ending 10:00 and one starting 10:00 do not overlap;
--   * no two active bookings (booked or in progress) of the same car, or of the
--     same consultant, overlap — the service checks it inside its BEGIN IMMEDIATE
--     transaction to say which booking clashes, and the triggers below refuse any
--     write that would break it, whoever makes it;
--   * a drive in progress has its mileage out and a checked licence and signed
--     agreement; a completed one its mileage in (never below out) and a rating.
-- Times are unix milliseconds UTC; mileage is whole kilometres.

-- +goose Up
CREATE TABLE test_drive_car (
    id          INTEGER PRIMARY KEY,
    store_id    INTEGER NOT NULL REFERENCES store (id),
    model_id    INTEGER NOT NULL REFERENCES vehicle_model (id),
    plate       TEXT NOT NULL CHECK (length(plate) BETWEEN 2 AND 12),  -- 车牌, normalized upper case without spaces
    vin         TEXT NOT NULL DEFAULT '' CHECK (vin = '' OR length(vin) = 17),
    vehicle_id  INTEGER REFERENCES vehicle (id),                       -- the stock vehicle serving as demo car, if any
    color       TEXT NOT NULL DEFAULT '',
    mileage     INTEGER NOT NULL DEFAULT 0 CHECK (mileage >= 0),       -- km, the latest odometer reading
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'maintenance', 'retired')),
    note        TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    created_by  INTEGER REFERENCES app_user (id),
    updated_at  INTEGER NOT NULL,
    updated_by  INTEGER REFERENCES app_user (id),
    UNIQUE (store_id, plate)
) STRICT;
-- Fleet list of a store (and the calendar's columns), by status then id.
CREATE INDEX test_drive_car_store ON test_drive_car (store_id, status, id);

CREATE TABLE test_drive (
    id                 INTEGER PRIMARY KEY,
    store_id           INTEGER NOT NULL REFERENCES store (id),
    customer_id        INTEGER NOT NULL REFERENCES customer (id),
    car_id             INTEGER NOT NULL REFERENCES test_drive_car (id),
    consultant_id      INTEGER NOT NULL REFERENCES app_user (id),
    start_at           INTEGER NOT NULL,
    end_at             INTEGER NOT NULL,
    status             TEXT NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'in_progress', 'completed', 'cancelled', 'no_show')),
    route              TEXT NOT NULL DEFAULT '',
    note               TEXT NOT NULL DEFAULT '',
    -- licence check (驾驶证核验): the number is personal data, shown masked
    licence_no         TEXT NOT NULL DEFAULT '',
    licence_class      TEXT NOT NULL DEFAULT '',
    licence_expiry     TEXT NOT NULL DEFAULT '',   -- YYYY-MM-DD
    licence_checked_at INTEGER,
    licence_checked_by INTEGER REFERENCES app_user (id),
    -- signed agreement (试驾协议)
    agreement_signer   TEXT NOT NULL DEFAULT '',
    agreement_at       INTEGER,
    -- the drive
    started_at         INTEGER,
    mileage_out        INTEGER CHECK (mileage_out >= 0),
    ended_at           INTEGER,
    mileage_in         INTEGER,
    -- feedback (试驾反馈), ratings 1–5; 0: not rated
    rating             INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    rating_comfort     INTEGER NOT NULL DEFAULT 0 CHECK (rating_comfort BETWEEN 0 AND 5),
    rating_power       INTEGER NOT NULL DEFAULT 0 CHECK (rating_power BETWEEN 0 AND 5),
    rating_handling    INTEGER NOT NULL DEFAULT 0 CHECK (rating_handling BETWEEN 0 AND 5),
    rating_tech        INTEGER NOT NULL DEFAULT 0 CHECK (rating_tech BETWEEN 0 AND 5),
    intent_change      TEXT NOT NULL DEFAULT '' CHECK (intent_change IN ('', 'up', 'same', 'down')),
    feedback           TEXT NOT NULL DEFAULT '',
    -- the other endings
    cancel_reason      TEXT NOT NULL DEFAULT '',
    closed_at          INTEGER,                     -- cancelled or marked no-show
    closed_by          INTEGER REFERENCES app_user (id), -- NULL with no_show: the job marked it
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    created_by         INTEGER REFERENCES app_user (id),
    updated_at         INTEGER NOT NULL,
    updated_by         INTEGER REFERENCES app_user (id),
    CHECK (end_at > start_at),
    CHECK (mileage_in IS NULL OR (mileage_out IS NOT NULL AND mileage_in >= mileage_out)),
    CHECK (status NOT IN ('in_progress', 'completed') OR (started_at IS NOT NULL AND mileage_out IS NOT NULL
        AND licence_checked_at IS NOT NULL AND agreement_at IS NOT NULL)),
    CHECK (status <> 'completed' OR (ended_at IS NOT NULL AND mileage_in IS NOT NULL AND rating BETWEEN 1 AND 5)),
    CHECK (status <> 'cancelled' OR cancel_reason <> '')
) STRICT;
-- Overlap checks and the calendar filtered by car: a car's active bookings by start.
CREATE INDEX test_drive_car_active ON test_drive (car_id, start_at) WHERE status IN ('booked', 'in_progress');
-- Overlap checks and the calendar filtered by consultant.
CREATE INDEX test_drive_consultant_active ON test_drive (consultant_id, start_at) WHERE status IN ('booked', 'in_progress');
-- The calendar of a store over a range (day/week), and the no-show stats by period.
CREATE INDEX test_drive_store_start ON test_drive (store_id, start_at);
-- A customer's test drives (customer page) and the SOP gate "test drive done".
CREATE INDEX test_drive_customer ON test_drive (customer_id, status, start_at);
-- The no-show job: bookings never started.
CREATE INDEX test_drive_booked_start ON test_drive (start_at) WHERE status = 'booked';

-- The backstop of the overlap invariant: whatever writes a booking, an active one
-- never overlaps another active one of the same car or the same consultant.
-- +goose StatementBegin
CREATE TRIGGER test_drive_no_overlap_insert BEFORE INSERT ON test_drive
WHEN NEW.status IN ('booked', 'in_progress') AND EXISTS (
    SELECT 1 FROM test_drive t WHERE t.status IN ('booked', 'in_progress')
      AND (t.car_id = NEW.car_id OR t.consultant_id = NEW.consultant_id)
      AND t.start_at < NEW.end_at AND t.end_at > NEW.start_at)
BEGIN
    SELECT RAISE(ABORT, 'test_drive overlap');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER test_drive_no_overlap_update BEFORE UPDATE OF car_id, consultant_id, start_at, end_at, status ON test_drive
WHEN NEW.status IN ('booked', 'in_progress') AND EXISTS (
    SELECT 1 FROM test_drive t WHERE t.id <> NEW.id AND t.status IN ('booked', 'in_progress')
      AND (t.car_id = NEW.car_id OR t.consultant_id = NEW.consultant_id)
      AND t.start_at < NEW.end_at AND t.end_at > NEW.start_at)
BEGIN
    SELECT RAISE(ABORT, 'test_drive overlap');
END;
-- +goose StatementEnd
