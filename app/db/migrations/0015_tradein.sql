-- Trade-ins (DOMAIN.md S8, 置换): a customer's used car registered for
-- appraisal, every appraisal kept as a version (condition checklist, offered
-- value, how long the offer holds), and the purchase agreement (收车协议).
-- Invariants held here: a status is one of six; an appraised or purchased car
-- has an offered value and a valid-until; a purchased one has its agreement;
-- one plate has at most one open trade-in (registered or appraised) group-wide,
-- so the same car cannot be appraised twice in parallel; appraisal versions
-- are numbered without gaps or duplicates per trade-in (UNIQUE). Updates are
-- conditional on the version column (PUT/POST with a stale version → 409).
-- Money is INTEGER fen, times INTEGER unix ms UTC.

-- +goose Up
CREATE TABLE trade_in (
    id                  INTEGER PRIMARY KEY,
    store_id            INTEGER NOT NULL REFERENCES store (id),
    customer_id         INTEGER NOT NULL REFERENCES customer (id),
    consultant_id       INTEGER REFERENCES app_user (id),     -- who registered it (the customer's consultant)
    brand               TEXT NOT NULL,                         -- free text: used cars can be any make
    series              TEXT NOT NULL DEFAULT '',
    model               TEXT NOT NULL DEFAULT '',
    year                INTEGER NOT NULL DEFAULT 0 CHECK (year = 0 OR year BETWEEN 1950 AND 2100), -- model year, 0 unknown
    first_reg_date      TEXT NOT NULL DEFAULT '',              -- YYYY-MM-DD (初次登记)
    plate               TEXT NOT NULL CHECK (length(plate) BETWEEN 7 AND 8), -- normalized, without the dot: 浙A12345, 浙AD12345
    vin                 TEXT NOT NULL DEFAULT '' CHECK (vin = '' OR length(vin) = 17),
    mileage_km          INTEGER NOT NULL DEFAULT 0 CHECK (mileage_km >= 0),
    color               TEXT NOT NULL DEFAULT '',
    fuel                TEXT NOT NULL DEFAULT '' CHECK (fuel IN ('', 'petrol', 'diesel', 'hybrid', 'phev', 'ev', 'other')),
    transfer_count      INTEGER NOT NULL DEFAULT 0 CHECK (transfer_count >= 0), -- 过户次数
    loan_outstanding    INTEGER NOT NULL DEFAULT 0 CHECK (loan_outstanding IN (0, 1)),
    notes               TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'appraised', 'purchased', 'declined', 'expired', 'cancelled')),
    -- the current (latest) appraisal, copied from trade_in_appraisal for lists and quotes
    appraisal_no        INTEGER NOT NULL DEFAULT 0,
    offered_fen         INTEGER CHECK (offered_fen > 0),
    valid_until         INTEGER,
    appraised_at        INTEGER,
    appraised_by        INTEGER REFERENCES app_user (id),
    -- the purchase agreement (收车协议)
    agreed_fen          INTEGER CHECK (agreed_fen > 0),
    handover_date       TEXT NOT NULL DEFAULT '',              -- YYYY-MM-DD
    seller_name         TEXT NOT NULL DEFAULT '',
    payment_note        TEXT NOT NULL DEFAULT '',
    agreed_at           INTEGER,
    agreed_by           INTEGER REFERENCES app_user (id),
    confirmed_by        INTEGER REFERENCES app_user (id),      -- the manager who allowed a price above the offer
    close_reason        TEXT NOT NULL DEFAULT '',              -- declined / cancelled
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    created_by          INTEGER REFERENCES app_user (id),
    updated_at          INTEGER NOT NULL,
    updated_by          INTEGER REFERENCES app_user (id),
    CHECK (status NOT IN ('appraised', 'purchased', 'expired') OR (offered_fen IS NOT NULL AND valid_until IS NOT NULL AND appraisal_no > 0)),
    CHECK (status <> 'purchased' OR (agreed_fen IS NOT NULL AND agreed_at IS NOT NULL))
) STRICT;

-- Registration: one open trade-in per plate (the same car cannot be appraised twice at once).
CREATE UNIQUE INDEX trade_in_open_plate ON trade_in (plate) WHERE status IN ('registered', 'appraised');
-- List: a store's trade-ins, newest first (keyset on id).
CREATE INDEX trade_in_store ON trade_in (store_id, id);
-- List: a store's trade-ins by status, newest first.
CREATE INDEX trade_in_store_status ON trade_in (store_id, status, id);
-- List (group roles): by status, newest first.
CREATE INDEX trade_in_status ON trade_in (status, id);
-- List: a customer's trade-ins (the customer page); ForQuote and the SOP gate.
CREATE INDEX trade_in_customer ON trade_in (customer_id, id);
-- List: a consultant's trade-ins.
CREATE INDEX trade_in_consultant ON trade_in (consultant_id, id);
-- List: plate search (prefix after the province, e.g. "A123" → plate range), and the plate check.
CREATE INDEX trade_in_plate ON trade_in (plate);
-- Expiry job: appraisals past valid-until.
CREATE INDEX trade_in_valid_until ON trade_in (valid_until) WHERE status = 'appraised';
-- Stats: cars registered in a store in a period.
CREATE INDEX trade_in_store_created ON trade_in (store_id, created_at);
-- Stats: purchases of a store in a period.
CREATE INDEX trade_in_agreed ON trade_in (store_id, agreed_at) WHERE agreed_at IS NOT NULL;

-- Every appraisal of a trade-in (re-appraisal adds a version; none is changed).
CREATE TABLE trade_in_appraisal (
    id                  INTEGER PRIMARY KEY,
    trade_in_id         INTEGER NOT NULL REFERENCES trade_in (id),
    store_id            INTEGER NOT NULL REFERENCES store (id),
    no                  INTEGER NOT NULL CHECK (no > 0),       -- version: 1, 2, …
    at                  INTEGER NOT NULL,
    by                  INTEGER REFERENCES app_user (id),      -- the appraiser
    by_name             TEXT NOT NULL DEFAULT '',
    checklist           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(checklist)), -- {"engine":{"grade":"ok","note":""},…}
    offered_fen         INTEGER NOT NULL CHECK (offered_fen > 0),
    valid_until         INTEGER NOT NULL,
    expected_resale_fen INTEGER CHECK (expected_resale_fen >= 0), -- internal: shown only with cost.read
    recon_cost_fen      INTEGER CHECK (recon_cost_fen >= 0),      -- internal: reconditioning cost, cost.read only
    remarks             TEXT NOT NULL DEFAULT '',
    UNIQUE (trade_in_id, no)
) STRICT;

-- Stats: appraisals of a store in a period.
CREATE INDEX trade_in_appraisal_store_at ON trade_in_appraisal (store_id, at);
-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
