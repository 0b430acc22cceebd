-- The sales SOP pipeline (DOMAIN.md S1): the stages of each store, where each
-- active customer stands, and every stay in a stage (time in stage, cycle-time
-- reports). Won and lost are never stages: they stay the customer's status
-- (lost/dormant) and lifecycle (ordered/delivered), so renaming or reordering
-- stages cannot change who counts as won or lost.
-- Moves are conditional updates on customer_sop.version (two people moving one
-- customer at once: one wins, the other gets 409), and a customer has at most
-- one open stay (a partial unique index).

-- +goose Up
CREATE TABLE sop_stage (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES store (id),
    position   INTEGER NOT NULL,                       -- board order, 1…n
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    -- the system key automatic moves aim at (sop.Service.AdvanceTx); '' for a store's own stages
    sys_key    TEXT NOT NULL DEFAULT '' CHECK (sys_key IN ('', 'clean', 'contact', 'intent', 'invited', 'visit', 'quote', 'finance', 'contract', 'delivery')),
    gates      TEXT NOT NULL DEFAULT '[]',              -- JSON: gate keys that must be met to leave the stage forward
    tasks      TEXT NOT NULL DEFAULT '[]',              -- JSON: [{title, dueHours, assignee: owner|manager}] created on entry
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
-- The stages of a store in board order (every board, move and editor load).
CREATE INDEX sop_stage_store ON sop_stage (store_id, position, id);
-- One stage per system key per store; one name per store.
CREATE UNIQUE INDEX sop_stage_key ON sop_stage (store_id, sys_key) WHERE sys_key <> '';
CREATE UNIQUE INDEX sop_stage_name ON sop_stage (store_id, name);

-- Where a customer stands. No row: at the store's first active stage since the
-- customer was created (a new lead needs no write here).
CREATE TABLE customer_sop (
    customer_id INTEGER PRIMARY KEY REFERENCES customer (id),
    store_id    INTEGER NOT NULL REFERENCES store (id),
    stage_id    INTEGER NOT NULL REFERENCES sop_stage (id),
    entered_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  INTEGER NOT NULL
) STRICT;
-- Stage delete / editor: is a stage in use, and by how many.
CREATE INDEX customer_sop_stage ON customer_sop (stage_id);
-- Stage editor, cycle-time report: customers per stage of a store (from the index alone).
CREATE INDEX customer_sop_store ON customer_sop (store_id, stage_id);

-- The board and the list: a store's open customers (active, not yet delivered),
-- by owner for "mine" and own scope. Partial, so it holds only the few thousand
-- customers a store has in the pipeline, not its lost and dormant history; the
-- board query repeats the index's condition word for word so SQLite uses it.
CREATE INDEX customer_board ON customer (store_id, owner_id) WHERE status = 'active' AND stage IN ('lead', 'prospect', 'ordered');

-- Every stay of a customer in a stage: entered, left (NULL while there), how it
-- was entered (initial: the implicit first stage, manual, override of a gate by a
-- manager, auto: a business event such as a signed order), by whom.
CREATE TABLE sop_history (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customer (id),
    store_id      INTEGER NOT NULL REFERENCES store (id),
    stage_id      INTEGER NOT NULL,            -- no foreign key: a deleted stage keeps its history
    stage_name    TEXT NOT NULL,               -- the name when entered
    from_stage_id INTEGER,
    entered_at    INTEGER NOT NULL,
    left_at       INTEGER,
    how           TEXT NOT NULL CHECK (how IN ('initial', 'manual', 'override', 'auto')),
    by_user       INTEGER REFERENCES app_user (id),
    by_name       TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL DEFAULT '',
    CHECK (left_at IS NULL OR left_at >= entered_at)
) STRICT;
-- At most one open stay per customer.
CREATE UNIQUE INDEX sop_history_open ON sop_history (customer_id) WHERE left_at IS NULL;
-- The customer page: the stays of one customer in order.
CREATE INDEX sop_history_customer ON sop_history (customer_id, entered_at);
-- Cycle-time report: the stays of a store that ended in a period, covering the
-- columns it reads.
CREATE INDEX sop_history_store_left ON sop_history (store_id, left_at, stage_id, entered_at) WHERE left_at IS NOT NULL;

-- The default stages for every existing store (stores created later get them on
-- first use). Gate keys of other modules (quote_created, order_signed) are only
-- checked when that module registers them; an unknown key is ignored and the
-- stage editor warns about it.
INSERT INTO sop_stage (store_id, position, name, sys_key, gates, tasks, created_at, updated_at)
SELECT s.id, d.position, d.name, d.sys_key, d.gates, d.tasks, CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER)
FROM store s, (
    SELECT 1 AS position, '线索清洗' AS name, 'clean' AS sys_key, '[]' AS gates, '[]' AS tasks
    UNION ALL SELECT 2, '首次联系', 'contact', '["contacted"]', '[]'
    UNION ALL SELECT 3, '意向确认', 'intent', '["intent_set"]', '[{"title":"发送车型资料","dueHours":24,"assignee":"owner"}]'
    UNION ALL SELECT 4, '邀约到店', 'invited', '[]', '[{"title":"到店前电话确认邀约","dueHours":24,"assignee":"owner"}]'
    UNION ALL SELECT 5, '接待/试驾', 'visit', '["visited"]', '[]'
    UNION ALL SELECT 6, '报价', 'quote', '["quote_created"]', '[{"title":"报价后跟进","dueHours":48,"assignee":"owner"}]'
    UNION ALL SELECT 7, '金融方案', 'finance', '[]', '[]'
    UNION ALL SELECT 8, '签约', 'contract', '["order_signed"]', '[{"title":"审核合同与定金","dueHours":24,"assignee":"manager"}]'
    UNION ALL SELECT 9, '交车', 'delivery', '[]', '[{"title":"交车准备与PDI确认","dueHours":72,"assignee":"owner"}]'
) d;
-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
