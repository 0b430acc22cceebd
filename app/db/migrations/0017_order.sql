-- Orders and contracts (DOMAIN.md S6) and deal profit (S7). An order is made
-- from an accepted quote and keeps the quote's figures frozen. The invariants
-- live here: a contract number is unique and comes from a per-store sequence
-- row updated in the same transaction (never reused, even after a cancel); a
-- quote makes at most one live order; a vehicle (VIN) belongs to at most one
-- live order; statuses are one of ten; payments are integer fen and a refund is
-- a negative entry with a reason. Status moves are conditional UPDATEs on
-- (id, status, version), so a stale or out-of-order request changes nothing.

-- +goose Up
CREATE TABLE sales_order (
    id                     INTEGER PRIMARY KEY,
    store_id               INTEGER NOT NULL REFERENCES store (id),
    customer_id            INTEGER NOT NULL REFERENCES customer (id),
    owner_id               INTEGER NOT NULL REFERENCES app_user (id),   -- the consultant of the deal
    department_id          INTEGER,                                     -- the consultant's team (scope)
    contract_no            TEXT NOT NULL UNIQUE,
    status                 TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'pending_approval', 'signed', 'vin_allocated', 'pdi_done',
                               'delivery_scheduled', 'delivered', 'closed', 'cancelled')),
    quote_id               INTEGER NOT NULL,                            -- the quote it was made from (sales module)
    quote_no               TEXT NOT NULL DEFAULT '',
    quote_version          INTEGER NOT NULL DEFAULT 0,
    model_id               INTEGER NOT NULL REFERENCES vehicle_model (id),
    color                  TEXT NOT NULL DEFAULT '',
    -- The quote's figures, frozen (fen).
    msrp                   INTEGER NOT NULL DEFAULT 0 CHECK (msrp >= 0),
    vehicle_price          INTEGER NOT NULL CHECK (vehicle_price >= 0),
    discount               INTEGER NOT NULL DEFAULT 0,
    accessories            INTEGER NOT NULL DEFAULT 0 CHECK (accessories >= 0),
    accessories_cost       INTEGER NOT NULL DEFAULT 0 CHECK (accessories_cost >= 0),
    insurance              INTEGER NOT NULL DEFAULT 0 CHECK (insurance >= 0),
    registration           INTEGER NOT NULL DEFAULT 0 CHECK (registration >= 0),
    purchase_tax           INTEGER NOT NULL DEFAULT 0 CHECK (purchase_tax >= 0),
    service_fee            INTEGER NOT NULL DEFAULT 0 CHECK (service_fee >= 0),
    trade_in               INTEGER NOT NULL DEFAULT 0 CHECK (trade_in >= 0),
    trade_in_id            INTEGER,
    total                  INTEGER NOT NULL CHECK (total >= 0),         -- what the customer pays the store
    financed               INTEGER NOT NULL DEFAULT 0 CHECK (financed IN (0, 1)),
    down_payment           INTEGER NOT NULL DEFAULT 0,
    loan                   INTEGER NOT NULL DEFAULT 0,
    term_months            INTEGER NOT NULL DEFAULT 0,
    rate_bp                INTEGER NOT NULL DEFAULT 0,
    monthly                INTEGER NOT NULL DEFAULT 0,
    -- Deal profit inputs (finance may edit the commissions and the rebate).
    finance_commission     INTEGER NOT NULL DEFAULT 0 CHECK (finance_commission >= 0),
    insurance_commission   INTEGER NOT NULL DEFAULT 0 CHECK (insurance_commission >= 0),
    rebate                 INTEGER CHECK (rebate >= 0),                 -- 厂家返利 entered; NULL: the expected % of the settings
    -- Running money (fen): the sum of the non-void payment entries (refunds negative).
    paid                   INTEGER NOT NULL DEFAULT 0 CHECK (paid >= 0),
    planned_delivery_at    INTEGER,                                     -- the date promised in the contract
    approval_id            INTEGER,
    signed_at              INTEGER,
    vehicle_id             INTEGER REFERENCES vehicle (id),
    vin                    TEXT NOT NULL DEFAULT '',
    vin_at                 INTEGER,
    pdi                    TEXT NOT NULL DEFAULT '[]',                  -- JSON [{key,label,state,note}]
    pdi_at                 INTEGER,
    pdi_by                 INTEGER REFERENCES app_user (id),
    delivery_at            INTEGER,                                     -- the appointment
    delivery_place         TEXT NOT NULL DEFAULT '',
    delivery_checklist     TEXT NOT NULL DEFAULT '[]',                  -- JSON [{key,label,required,done}]
    delivered_at           INTEGER,
    delivered_by           INTEGER REFERENCES app_user (id),
    closed_at              INTEGER,
    cancel_reason          TEXT NOT NULL DEFAULT '',
    cancel_note            TEXT NOT NULL DEFAULT '',
    cancelled_at           INTEGER,
    cancelled_by           INTEGER REFERENCES app_user (id),
    note                   TEXT NOT NULL DEFAULT '',
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             INTEGER NOT NULL,
    created_by             INTEGER REFERENCES app_user (id),
    updated_at             INTEGER NOT NULL,
    updated_by             INTEGER REFERENCES app_user (id),
    CHECK (status NOT IN ('vin_allocated', 'pdi_done', 'delivery_scheduled', 'delivered', 'closed') OR vehicle_id IS NOT NULL),
    CHECK (status NOT IN ('delivery_scheduled') OR delivery_at IS NOT NULL),
    CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL)
) STRICT;

-- A VIN belongs to one live order: the allocation race has one winner.
CREATE UNIQUE INDEX sales_order_vehicle_live ON sales_order (vehicle_id) WHERE vehicle_id IS NOT NULL AND status <> 'cancelled';
-- A quote makes one live order (a cancelled order frees it).
CREATE UNIQUE INDEX sales_order_quote_live ON sales_order (quote_id) WHERE status <> 'cancelled';
-- List: a store's orders newest first (default sort, keyset on id).
CREATE INDEX sales_order_store_id ON sales_order (store_id, id);
-- List: by status within a store.
CREATE INDEX sales_order_store_status ON sales_order (store_id, status, id);
-- List: a consultant's orders (own scope, consultant filter).
CREATE INDEX sales_order_owner ON sales_order (owner_id, id);
-- List: delivery date range; the reminder jobs (appointments and balances before delivery).
CREATE INDEX sales_order_delivery ON sales_order (delivery_at) WHERE status IN ('delivery_scheduled');
CREATE INDEX sales_order_planned ON sales_order (planned_delivery_at) WHERE status NOT IN ('delivered', 'closed', 'cancelled');
-- The customer page's orders, and the SOP gates (order signed, deposit paid …).
CREATE INDEX sales_order_customer ON sales_order (customer_id, status);
-- Profit report: deliveries of a period (store, consultant) and the commission tier rank.
CREATE INDEX sales_order_delivered ON sales_order (store_id, delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX sales_order_owner_delivered ON sales_order (owner_id, delivered_at) WHERE delivered_at IS NOT NULL;

-- Payments and receipts (定金, 首付款, 尾款, 贷款放款) and refunds (negative, with a reason).
CREATE TABLE sales_order_payment (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES sales_order (id),
    store_id     INTEGER NOT NULL REFERENCES store (id),
    kind         TEXT NOT NULL CHECK (kind IN ('deposit', 'payment', 'refund')),
    method       TEXT NOT NULL CHECK (method IN ('cash', 'card', 'transfer', 'wechat', 'alipay', 'loan')),
    amount       INTEGER NOT NULL CHECK (amount <> 0),
    received_at  INTEGER NOT NULL,
    reference    TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',                              -- the reason of a refund
    status       TEXT NOT NULL DEFAULT 'recorded' CHECK (status IN ('recorded', 'confirmed', 'void')),
    recorded_by  INTEGER REFERENCES app_user (id),
    confirmed_by INTEGER REFERENCES app_user (id),
    confirmed_at INTEGER,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    CHECK ((kind = 'refund') = (amount < 0)),
    CHECK (kind <> 'refund' OR note <> '')
) STRICT;
-- An order's payments, oldest first; the deposit gate.
CREATE INDEX sales_order_payment_order ON sales_order_payment (order_id, id);

-- The contract number sequence: one row per store and period (the period is
-- the month or year the number format names, '' for a running number).
CREATE TABLE sales_order_seq (
    store_id INTEGER NOT NULL REFERENCES store (id),
    period   TEXT NOT NULL,
    last     INTEGER NOT NULL CHECK (last >= 0),
    PRIMARY KEY (store_id, period)
) STRICT;

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
