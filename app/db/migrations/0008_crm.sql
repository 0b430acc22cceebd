-- Leads and customers (DOMAIN.md L1–L7, P2): one customer per phone per store,
-- the leads that brought them, assignment rules and history, follow-ups, the
-- showroom traffic log, lost requests, consent, saved list views and imports.
-- Every filter and sort of the customer list has its index here, named after the
-- query it serves (the list must stay fast at 1,000,000 customers).

-- +goose Up
CREATE TABLE customer (
    id               INTEGER PRIMARY KEY,
    store_id         INTEGER NOT NULL REFERENCES store (id),
    owner_id         INTEGER REFERENCES app_user (id),       -- NULL: in the shared pool (公海)
    department_id    INTEGER REFERENCES department (id),     -- the owner's team when assigned
    name             TEXT NOT NULL DEFAULT '',
    phone            TEXT NOT NULL DEFAULT '',                -- primary phone, normalized ('' when none)
    gender           TEXT NOT NULL DEFAULT '' CHECK (gender IN ('', 'm', 'f')),
    birthday         TEXT NOT NULL DEFAULT '',                -- YYYY-MM-DD
    region           TEXT NOT NULL DEFAULT '',                -- 省/市/区 as typed, e.g. 浙江省杭州市西湖区
    address          TEXT NOT NULL DEFAULT '',
    occupation       TEXT NOT NULL DEFAULT '',
    family           TEXT NOT NULL DEFAULT '',
    wechat           TEXT NOT NULL DEFAULT '',
    id_no            TEXT NOT NULL DEFAULT '',                -- resident ID; shown masked
    budget_min       INTEGER NOT NULL DEFAULT 0 CHECK (budget_min >= 0), -- fen
    budget_max       INTEGER NOT NULL DEFAULT 0 CHECK (budget_max >= 0),
    current_car      TEXT NOT NULL DEFAULT '',
    series_id        INTEGER REFERENCES vehicle_series (id),  -- intended series
    model_id         INTEGER REFERENCES vehicle_model (id),   -- intended trim
    color            TEXT NOT NULL DEFAULT '',
    timeframe        TEXT NOT NULL DEFAULT '' CHECK (timeframe IN ('', '7d', '15d', '30d', '90d', 'later')),
    payment          TEXT NOT NULL DEFAULT '' CHECK (payment IN ('', 'full', 'loan')),
    trade_in         INTEGER NOT NULL DEFAULT 0 CHECK (trade_in IN (0, 1)),
    channel          TEXT NOT NULL CHECK (channel IN ('walk_in', 'phone', 'dcc', 'website', 'autohome', 'dongchedi', 'yiche', 'wechat', 'referral', 'auto_show', 'campaign', 'oem', 'other')),
    source_detail    TEXT NOT NULL DEFAULT '',
    grade            TEXT NOT NULL DEFAULT '',
    visit            TEXT NOT NULL DEFAULT '' CHECK (visit IN ('', 'first', 'return')),
    stage            TEXT NOT NULL DEFAULT 'lead' CHECK (stage IN ('lead', 'prospect', 'ordered', 'delivered', 'owner')),
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'lost', 'dormant', 'merged')),
    lost_reason      TEXT NOT NULL DEFAULT '',
    lost_brand       TEXT NOT NULL DEFAULT '',
    status_at        INTEGER,                                 -- when lost/dormant/merged
    remark           TEXT NOT NULL DEFAULT '',
    consent          INTEGER NOT NULL DEFAULT 0 CHECK (consent IN (0, 1)), -- marketing contact allowed (P2)
    assigned_at      INTEGER,
    first_contact_at INTEGER,
    last_contact_at  INTEGER,
    touched_at       INTEGER,                                 -- max(assigned_at, last_contact_at): pool return
    next_followup_at INTEGER,
    ordered_at       INTEGER,
    sla_kind         TEXT NOT NULL DEFAULT '' CHECK (sla_kind IN ('', 'first_contact', 'followup')),
    sla_due_at       INTEGER,                                 -- the deadline being watched
    sla_level        INTEGER NOT NULL DEFAULT 0 CHECK (sla_level BETWEEN 0 AND 3), -- reminders sent on this deadline
    sla_next_at      INTEGER,                                 -- when the next level fires; NULL: nothing to watch
    merged_into      INTEGER REFERENCES customer (id),
    created_by       INTEGER,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
-- customer list, newest first (the default sort), keyset (created_at, id), one
-- status (active by default): per store, and group-wide. sla_due_at last: the
-- "overdue" filter walks this order and tests it in the index (an index on
-- sla_due_at would read every overdue customer of the store and sort them).
CREATE INDEX customer_store_status ON customer (store_id, status, created_at, id, sla_due_at);
CREATE INDEX customer_status_created ON customer (status, created_at, id);
-- the same for every status but merged ("all"), per store and group-wide
CREATE INDEX customer_store_created ON customer (store_id, created_at, id) WHERE status <> 'merged';
CREATE INDEX customer_created ON customer (created_at, id) WHERE status <> 'merged';
-- "my customers" (own scope) and the owner filter, newest first; stage last for
-- fewest-open counting (owner, active, lead/prospect) from the index alone; bulk transfer
CREATE INDEX customer_owner ON customer (owner_id, status, created_at, id, stage);
-- "my customers" by next follow-up (the consultant's daily list)
CREATE INDEX customer_owner_next ON customer (owner_id, next_followup_at, id) WHERE status = 'active';
-- the weighted assignment rule: orders per consultant in the last 90 days
CREATE INDEX customer_owner_ordered ON customer (owner_id, ordered_at) WHERE ordered_at IS NOT NULL;
-- team scope (department)
CREATE INDEX customer_department ON customer (department_id, created_at, id);
-- filters: grade, stage, channel, intended series, each with the status asked
-- for and the default sort, so a rare value is a seek, not a walk of the store
CREATE INDEX customer_store_grade ON customer (store_id, grade, status, created_at, id);
CREATE INDEX customer_store_stage ON customer (store_id, stage, status, created_at, id);
CREATE INDEX customer_store_channel ON customer (store_id, channel, status, created_at, id);
CREATE INDEX customer_store_series ON customer (store_id, series_id, status, created_at, id);
-- sorts: next follow-up (per store and group-wide), last update, name (also the duplicates-by-name view)
CREATE INDEX customer_store_next ON customer (store_id, next_followup_at, id) WHERE status = 'active';
CREATE INDEX customer_status_next ON customer (status, next_followup_at, id) WHERE next_followup_at IS NOT NULL;
CREATE INDEX customer_store_updated ON customer (store_id, updated_at, id);
CREATE INDEX customer_store_name ON customer (store_id, name, id) WHERE status <> 'merged';
-- a name (2+ characters) in the search box group-wide; in a store customer_store_name serves it
CREATE INDEX customer_status_name ON customer (status, name, id);
-- the SLA job (sla_next_at <= now)
CREATE INDEX customer_sla_next ON customer (sla_next_at) WHERE sla_next_at IS NOT NULL;
-- the pool: unowned active customers per store; and the return-to-pool job
CREATE INDEX customer_pool ON customer (store_id, created_at, id) WHERE owner_id IS NULL AND status = 'active';
CREATE INDEX customer_untouched ON customer (touched_at) WHERE owner_id IS NOT NULL AND status = 'active' AND stage IN ('lead', 'prospect');
-- the duplicates view by ID number
CREATE INDEX customer_store_idno ON customer (store_id, id_no) WHERE id_no <> '' AND status <> 'merged';

-- Every phone of a customer. UNIQUE (store_id, phone): one identity per phone per
-- store — a second lead with a known phone attaches instead of duplicating, also
-- when two arrive at the same moment (L2).
CREATE TABLE customer_phone (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    store_id    INTEGER NOT NULL REFERENCES store (id),
    phone       TEXT NOT NULL,
    phone_rev   TEXT NOT NULL,      -- digits reversed: "last 4 digits" search is a range scan
    kind        TEXT NOT NULL CHECK (kind IN ('mobile', 'landline', 'service')),
    is_primary  INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    created_at  INTEGER NOT NULL,
    UNIQUE (store_id, phone)
) STRICT;
CREATE INDEX customer_phone_customer ON customer_phone (customer_id);
-- phone-suffix search within a store and group-wide
CREATE INDEX customer_phone_store_rev ON customer_phone (store_id, phone_rev);
CREATE INDEX customer_phone_rev ON customer_phone (phone_rev);

CREATE TABLE customer_tag (
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    tag         TEXT NOT NULL,
    store_id    INTEGER NOT NULL REFERENCES store (id),
    PRIMARY KEY (customer_id, tag)
) STRICT, WITHOUT ROWID;
-- tag filter and tag suggestions per store
CREATE INDEX customer_tag_store ON customer_tag (store_id, tag, customer_id);

-- Each time a customer reached us (form, call, website, portal sheet, import).
CREATE TABLE lead (
    id            INTEGER PRIMARY KEY,
    store_id      INTEGER NOT NULL REFERENCES store (id),
    customer_id   INTEGER NOT NULL REFERENCES customer (id),
    channel       TEXT NOT NULL,
    source_detail TEXT NOT NULL DEFAULT '',
    ext_id        TEXT NOT NULL DEFAULT '',  -- the website's / portal's / OEM's own id: a repeated post is not a new lead
    series_id     INTEGER,
    note          TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL CHECK (outcome IN ('new', 'attached')),
    created_by    INTEGER,
    api_key_id    INTEGER,
    import_job_id INTEGER,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX lead_ext ON lead (store_id, channel, ext_id) WHERE ext_id <> '';
CREATE INDEX lead_customer ON lead (customer_id, created_at);
-- reports: leads per store per day and channel
CREATE INDEX lead_store_created ON lead (store_id, created_at);

-- Ownership history: auto assignment, manual reassign, bulk transfer, claim from
-- and return to the pool, merge.
CREATE TABLE customer_assignment (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    store_id    INTEGER NOT NULL REFERENCES store (id),
    from_user   INTEGER,
    to_user     INTEGER,
    reason      TEXT NOT NULL CHECK (reason IN ('auto', 'creator', 'manual', 'transfer', 'claim', 'pool', 'merge', 'import')),
    rule_id     INTEGER,
    by_user     INTEGER,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX customer_assignment_customer ON customer_assignment (customer_id, at);
-- 90-day conversion weights and pool claims per person per day
CREATE INDEX customer_assignment_to ON customer_assignment (to_user, at);

-- Assignment rules, tried in position order; the first enabled match wins (L3).
CREATE TABLE assign_rule (
    id            INTEGER PRIMARY KEY,
    store_id      INTEGER NOT NULL REFERENCES store (id),
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    channels      TEXT NOT NULL DEFAULT '[]',  -- JSON: any of these channels; [] any
    series_ids    TEXT NOT NULL DEFAULT '[]',  -- JSON: intended series
    regions       TEXT NOT NULL DEFAULT '[]',  -- JSON: region prefixes
    time_from     INTEGER,                     -- minutes after local midnight; NULL: any time
    time_to       INTEGER,
    target_kind   TEXT NOT NULL CHECK (target_kind IN ('team', 'user')),
    department_id INTEGER REFERENCES department (id),
    user_id       INTEGER REFERENCES app_user (id),
    strategy      TEXT NOT NULL DEFAULT 'round_robin' CHECK (strategy IN ('round_robin', 'fewest_open', 'weighted')),
    last_user_id  INTEGER,                     -- round-robin position
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK ((target_kind = 'team' AND department_id IS NOT NULL) OR (target_kind = 'user' AND user_id IS NOT NULL))
) STRICT;
CREATE INDEX assign_rule_store ON assign_rule (store_id, position);

-- Follow-up records (跟进记录, L7).
CREATE TABLE followup (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    store_id    INTEGER NOT NULL REFERENCES store (id),
    user_id     INTEGER NOT NULL REFERENCES app_user (id),
    at          INTEGER NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('phone', 'wechat', 'visit', 'sms', 'other')),
    content     TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('reached', 'no_answer', 'invited', 'visited', 'not_interested', 'other')),
    grade       TEXT NOT NULL DEFAULT '',
    next_step   TEXT NOT NULL DEFAULT '',
    next_at     INTEGER,
    task_id     INTEGER REFERENCES task (id),
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX followup_customer ON followup (customer_id, at);
-- per-user activity (workbench, KPIs)
CREATE INDEX followup_user ON followup (user_id, at);

-- Showroom traffic log (展厅客流登记).
CREATE TABLE showroom_visit (
    id            INTEGER PRIMARY KEY,
    store_id      INTEGER NOT NULL REFERENCES store (id),
    customer_id   INTEGER REFERENCES customer (id),
    name          TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    arrived_at    INTEGER NOT NULL,
    left_at       INTEGER,
    party_size    INTEGER NOT NULL DEFAULT 1 CHECK (party_size BETWEEN 1 AND 50),
    visit         TEXT NOT NULL CHECK (visit IN ('first', 'return')),
    consultant_id INTEGER REFERENCES app_user (id),
    series_id     INTEGER,
    test_drive    INTEGER NOT NULL DEFAULT 0 CHECK (test_drive IN (0, 1)),
    note          TEXT NOT NULL DEFAULT '',
    created_by    INTEGER,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CHECK (left_at IS NULL OR left_at >= arrived_at)
) STRICT;
-- the traffic log of a day, per store
CREATE INDEX showroom_visit_store_arrived ON showroom_visit (store_id, arrived_at);
CREATE INDEX showroom_visit_customer ON showroom_visit (customer_id) WHERE customer_id IS NOT NULL;

-- "Request lost" (战败申请): decided through the approval engine.
CREATE TABLE lost_request (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    store_id     INTEGER NOT NULL REFERENCES store (id),
    reason       TEXT NOT NULL CHECK (reason IN ('bought_competitor', 'bought_same_brand_elsewhere', 'price', 'financing', 'no_longer_buying', 'unreachable', 'other')),
    brand        TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'returned', 'withdrawn')),
    requested_by INTEGER NOT NULL REFERENCES app_user (id),
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER
) STRICT;
-- at most one open request per customer
CREATE UNIQUE INDEX lost_request_open ON lost_request (customer_id) WHERE status = 'pending';

-- Consent records (P2): what the customer agreed to, when, how; withdrawals too.
CREATE TABLE customer_consent (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id),
    store_id    INTEGER NOT NULL REFERENCES store (id),
    granted     INTEGER NOT NULL CHECK (granted IN (0, 1)),
    scope       TEXT NOT NULL DEFAULT 'marketing',
    method      TEXT NOT NULL CHECK (method IN ('paper', 'verbal', 'web_form', 'wechat', 'sms', 'other')),
    note        TEXT NOT NULL DEFAULT '',
    by_user     INTEGER,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX customer_consent_customer ON customer_consent (customer_id, at);

-- Saved list views (filters and sort) per user; shared ones are visible to the store.
CREATE TABLE saved_view (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    store_id   INTEGER NOT NULL REFERENCES store (id),
    page       TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    shared     INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, page, name)
) STRICT;
CREATE INDEX saved_view_store ON saved_view (store_id, page) WHERE shared = 1;

-- Import jobs (Excel/CSV customer lists, portal lead sheets) and their per-row report.
CREATE TABLE import_job (
    id          INTEGER PRIMARY KEY,
    store_id    INTEGER NOT NULL REFERENCES store (id),
    created_by  INTEGER NOT NULL REFERENCES app_user (id),
    file_name   TEXT NOT NULL,
    file_path   TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'uploaded' CHECK (status IN ('uploaded', 'queued', 'running', 'done', 'failed', 'cancelled')),
    mapping     TEXT NOT NULL DEFAULT '{}',
    options     TEXT NOT NULL DEFAULT '{}',
    headers     TEXT NOT NULL DEFAULT '[]',
    total       INTEGER NOT NULL DEFAULT 0,
    processed   INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    attached    INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    started_at  INTEGER,
    finished_at INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX import_job_store ON import_job (store_id, id);
CREATE TABLE import_row (
    job_id  INTEGER NOT NULL REFERENCES import_job (id),
    row_no  INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('rejected', 'attached', 'duplicate_in_file')),
    errors  TEXT NOT NULL DEFAULT '{}',
    values_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (job_id, row_no)
) STRICT, WITHOUT ROWID;

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
