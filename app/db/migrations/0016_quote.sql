-- Quotes (DOMAIN.md S4) with their approval gating (S5). One row per version of
-- a quote: the versions of one quote share its number and are kept readable; only
-- the latest (latest = 1, one per number by a partial unique index) can be sent,
-- accepted or ordered. Every amount is INTEGER fen, exactly as sales.Compute
-- priced it when the version was saved (a test re-prices stored rows and
-- compares). Statuses move by conditional UPDATEs (… AND status = ? AND rev = ?)
-- checked by their affected-row count, so a stale edit or a second order is
-- refused by the database, not by a Go lock.

-- +goose Up
CREATE TABLE quote (
    id                    INTEGER PRIMARY KEY,
    store_id              INTEGER NOT NULL REFERENCES store (id),
    customer_id           INTEGER NOT NULL REFERENCES customer (id),
    owner_id              INTEGER REFERENCES app_user (id),   -- the consultant who quotes (the customer's owner at creation, else the author)
    number                TEXT NOT NULL,                      -- BJ-Q-20261123-0001, shared by the versions
    version               INTEGER NOT NULL CHECK (version >= 1),
    latest                INTEGER NOT NULL DEFAULT 1 CHECK (latest IN (0, 1)),
    status                TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'approved', 'sent', 'accepted', 'ordered', 'expired', 'cancelled')),
    -- Approval (S5): needs_approval is the store limits' verdict on these figures;
    -- approval_status is '' (never submitted), pending, approved, rejected, returned or withdrawn.
    needs_approval        INTEGER NOT NULL DEFAULT 0 CHECK (needs_approval IN (0, 1)),
    approval_reasons      TEXT NOT NULL DEFAULT '[]',         -- JSON: sales.Reason* codes
    approval_status       TEXT NOT NULL DEFAULT '' CHECK (approval_status IN ('', 'pending', 'approved', 'rejected', 'returned', 'withdrawn')),
    approval_id           INTEGER,
    valid_until           INTEGER NOT NULL,                   -- ms; the expiry job ends draft/approved/sent quotes after it
    -- The car.
    model_id              INTEGER NOT NULL REFERENCES vehicle_model (id),
    model_label           TEXT NOT NULL,                      -- 丰田 凯美瑞 2024款 2.0E 精英版, as quoted
    energy_type           TEXT NOT NULL,
    color                 TEXT NOT NULL DEFAULT '',
    color_price           INTEGER NOT NULL DEFAULT 0 CHECK (color_price >= 0),
    options               TEXT NOT NULL DEFAULT '[]',         -- JSON [{name, price}] of factory options chosen
    -- Inputs of sales.Compute.
    msrp                  INTEGER NOT NULL CHECK (msrp > 0),
    discount              INTEGER NOT NULL CHECK (discount >= 0),
    color_surcharge       INTEGER NOT NULL CHECK (color_surcharge >= 0), -- colour + options
    accessories           TEXT NOT NULL DEFAULT '[]',         -- JSON [{name, price, cost}] (精品/装潢)
    insurance             INTEGER NOT NULL CHECK (insurance >= 0),
    registration_fee      INTEGER NOT NULL CHECK (registration_fee >= 0),
    service_fee           INTEGER NOT NULL CHECK (service_fee >= 0),
    tax_rule              TEXT NOT NULL,                      -- JSON sales.TaxRule
    finance               TEXT,                               -- JSON sales.FinanceInput; NULL: paid in full
    trade_in_id           INTEGER,                            -- the appraisal credited (trade-ins); NULL: none
    trade_in_label        TEXT NOT NULL DEFAULT '',
    trade_in              INTEGER NOT NULL DEFAULT 0 CHECK (trade_in >= 0),
    vehicle_cost          INTEGER NOT NULL DEFAULT 0 CHECK (vehicle_cost >= 0), -- 0: unknown
    -- Results of sales.Compute.
    vehicle_price         INTEGER NOT NULL,
    accessory_price       INTEGER NOT NULL,
    accessory_cost        INTEGER NOT NULL,
    purchase_tax          INTEGER NOT NULL,
    purchase_tax_relief   INTEGER NOT NULL,
    total                 INTEGER NOT NULL,
    cash_need             INTEGER NOT NULL,
    financed              INTEGER NOT NULL CHECK (financed IN (0, 1)),
    down_payment          INTEGER NOT NULL,
    amount_financed       INTEGER NOT NULL,
    months                INTEGER NOT NULL,
    rate_bp               INTEGER NOT NULL,
    monthly_payment       INTEGER NOT NULL,
    total_interest        INTEGER NOT NULL,
    finance_fee           INTEGER NOT NULL,
    gross_profit          INTEGER NOT NULL,
    gross_margin_bp       INTEGER NOT NULL,
    finance_commission    INTEGER NOT NULL DEFAULT 0,         -- expected from the lender (S7)
    insurance_commission  INTEGER NOT NULL DEFAULT 0,
    note                  TEXT NOT NULL DEFAULT '',
    ordered_at            INTEGER,                            -- when an order took it (the order refers to the quote)
    rev                   INTEGER NOT NULL DEFAULT 1,         -- optimistic lock: every change bumps it
    sent_at               INTEGER,
    accepted_at           INTEGER,
    created_at            INTEGER NOT NULL,
    created_by            INTEGER REFERENCES app_user (id),
    updated_at            INTEGER NOT NULL,
    updated_by            INTEGER REFERENCES app_user (id),
    UNIQUE (number, version),
    CHECK (status <> 'pending_approval' OR approval_status = 'pending')
) STRICT;

-- Versions: one latest version per quote number (a new version and its
-- predecessor's latest = 0 are written in one transaction).
CREATE UNIQUE INDEX quote_latest ON quote (number) WHERE latest = 1;
-- List: a store's quotes, newest first (keyset on id), with status filters.
CREATE INDEX quote_store ON quote (store_id, latest, id);
CREATE INDEX quote_store_status ON quote (store_id, status, id);
-- Customer page tab and the SOP gates (quote_created, quote_approved).
CREATE INDEX quote_customer ON quote (customer_id, status);
-- List: a consultant's quotes.
CREATE INDEX quote_owner ON quote (owner_id, id);
-- Expiry job: quotes still open past valid_until.
CREATE INDEX quote_expiry ON quote (valid_until) WHERE status IN ('draft', 'approved', 'sent');

-- Quote numbers: the last sequence number of a store's day. Incremented by an
-- UPSERT inside the creating transaction, so numbers never repeat.
CREATE TABLE quote_sequence (
    store_id INTEGER NOT NULL REFERENCES store (id),
    day      TEXT NOT NULL,   -- YYYYMMDD, China time
    last     INTEGER NOT NULL CHECK (last >= 1),
    PRIMARY KEY (store_id, day)
) STRICT;
-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
