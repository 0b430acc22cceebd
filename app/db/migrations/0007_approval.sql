-- Approvals (DOMAIN.md S5): the one workflow engine every document uses — lost
-- customer requests, special discounts, contracts, expenses, purchases.
-- A definition routes a document type (per store or group-wide) to sequential
-- steps; an instance is one run for one document, with one task per approver and
-- step and an append-only history of what people did.
-- Invariants kept here, not in Go: at most one pending instance per document
-- (partial UNIQUE index); a task is decided once (conditional updates on status).

-- +goose Up
CREATE TABLE approval_definition (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER REFERENCES store (id), -- NULL: every store of the group
    doc_type   TEXT NOT NULL,                 -- e.g. crm.lost
    name       TEXT NOT NULL,
    priority   INTEGER NOT NULL DEFAULT 100 CHECK (priority BETWEEN 0 AND 9999), -- smaller is tried first
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    conditions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(conditions)), -- [{field, op, value}], all must hold
    steps      TEXT NOT NULL CHECK (json_valid(steps)),                  -- [{name, mode, approvers:[{kind, role, userId}]}]
    version    INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES app_user (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
-- routing at submit (doc type, the store's own then group-wide, by priority) and the
-- definitions list filtered by doc type
CREATE INDEX approval_definition_route ON approval_definition (doc_type, store_id, priority, id);

CREATE TABLE approval_instance (
    id              INTEGER PRIMARY KEY,
    doc_type        TEXT NOT NULL,
    doc_id          INTEGER NOT NULL,
    store_id        INTEGER NOT NULL REFERENCES store (id),
    customer_id     INTEGER,             -- the customer whose timeline shows the steps; NULL for e.g. expenses
    submitter_id    INTEGER NOT NULL REFERENCES app_user (id),
    owner_id        INTEGER REFERENCES app_user (id),
    department_id   INTEGER REFERENCES department (id),
    title           TEXT NOT NULL,
    link            TEXT NOT NULL DEFAULT '', -- SPA path of the document
    fields          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields)), -- what routing looked at, as submitted
    definition_id   INTEGER REFERENCES approval_definition (id) ON DELETE SET NULL, -- NULL: the doc type's default steps
    definition_name TEXT NOT NULL DEFAULT '',
    steps           TEXT NOT NULL CHECK (json_valid(steps)), -- the steps as they were at submit (later edits do not touch a running instance)
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'returned', 'withdrawn')),
    current_step    INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    version         INTEGER NOT NULL DEFAULT 1,
    CHECK ((status = 'pending') = (decided_at IS NULL))
) STRICT;
-- one pending approval per document: a second submit (or two at once) fails here;
-- also serves PendingFor
CREATE UNIQUE INDEX approval_instance_one_pending ON approval_instance (doc_type, doc_id) WHERE status = 'pending';
-- a document's approvals, newest first
CREATE INDEX approval_instance_doc ON approval_instance (doc_type, doc_id, id);
-- "submitted by me": keyset on id, newest first
CREATE INDEX approval_instance_submitter ON approval_instance (submitter_id, id);
-- everything visible through the document's read permission at store scope, newest first
CREATE INDEX approval_instance_store ON approval_instance (store_id, id);

-- One approver's part in one step. Future steps are queued at submit (so a step
-- that resolves to nobody fails the submit, and the ladder shows who comes next).
CREATE TABLE approval_task (
    id             INTEGER PRIMARY KEY,
    instance_id    INTEGER NOT NULL REFERENCES approval_instance (id),
    step_no        INTEGER NOT NULL CHECK (step_no >= 1),
    approver_id    INTEGER NOT NULL REFERENCES app_user (id),
    status         TEXT NOT NULL CHECK (status IN ('queued', 'waiting', 'approved', 'rejected', 'returned', 'skipped')),
    decided_by     INTEGER REFERENCES app_user (id), -- the approver, or their delegate
    acting_for     INTEGER REFERENCES app_user (id), -- set when a delegate decided for the approver
    comment        TEXT NOT NULL DEFAULT '',
    waiting_since  INTEGER,             -- when the step reached this approver
    decided_at     INTEGER,
    reminded_count INTEGER NOT NULL DEFAULT 0,
    remind_due_at  INTEGER,             -- next reminder; NULL when none is due any more
    UNIQUE (instance_id, step_no, approver_id) -- also the instance's ladder
) STRICT;
-- my inbox: waiting tasks of an approver (and of those I stand in for)
CREATE INDEX approval_task_inbox ON approval_task (approver_id, waiting_since) WHERE status = 'waiting';
-- the reminder job: waiting tasks whose reminder is due
CREATE INDEX approval_task_remind ON approval_task (remind_due_at) WHERE status = 'waiting' AND remind_due_at IS NOT NULL;

-- What people did, in order: submit, approve, reject, return, withdraw, comment.
CREATE TABLE approval_action (
    id          INTEGER PRIMARY KEY,
    instance_id INTEGER NOT NULL REFERENCES approval_instance (id),
    step_no     INTEGER NOT NULL DEFAULT 0,
    action      TEXT NOT NULL CHECK (action IN ('submit', 'approve', 'reject', 'return', 'withdraw', 'comment')),
    actor_id    INTEGER REFERENCES app_user (id),
    actor_name  TEXT NOT NULL DEFAULT '',
    acting_for  INTEGER REFERENCES app_user (id),
    comment     TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
) STRICT;
-- an instance's history
CREATE INDEX approval_action_instance ON approval_action (instance_id, id);
-- "decided by me": instances a user acted on, newest first
CREATE INDEX approval_action_actor ON approval_action (actor_id, instance_id) WHERE action IN ('approve', 'reject', 'return');

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
