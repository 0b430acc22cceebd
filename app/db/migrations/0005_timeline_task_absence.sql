-- Platform pieces every domain shares: the one customer timeline (DOMAIN.md L5),
-- tasks with reminders (L7 next steps; O2 builds on the same table) and staff
-- absences (L3 assignment skips the absent; S5 approvals go to their delegate).

-- +goose Up
-- One row per thing that happened to a customer. Domains append in the same
-- transaction as the change; crm reads. A customer merge re-points rows, so the
-- surviving customer keeps every entry.
CREATE TABLE timeline_event (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    store_id    INTEGER NOT NULL REFERENCES store (id),
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    INTEGER,
    actor_name  TEXT NOT NULL DEFAULT '',
    entity      TEXT NOT NULL DEFAULT '',
    entity_id   INTEGER NOT NULL DEFAULT 0,
    data        TEXT NOT NULL DEFAULT '{}'
) STRICT;
-- the customer page: newest first, keyset on (at, id)
CREATE INDEX timeline_event_customer ON timeline_event (customer_id, at DESC, id DESC);
-- an entity's own history (e.g. an approval's entries)
CREATE INDEX timeline_event_entity ON timeline_event (entity, entity_id) WHERE entity <> '';

-- A task: a next step from a follow-up, a callback, a to-do. remind_at is when
-- its reminder is due; reminded_at marks the reminder as sent (set by a
-- conditional update, so a restart never sends it twice).
CREATE TABLE task (
    id          INTEGER PRIMARY KEY,
    store_id    INTEGER NOT NULL REFERENCES store (id),
    assignee_id INTEGER NOT NULL REFERENCES app_user (id),
    title       TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL DEFAULT 'todo',
    customer_id INTEGER,
    entity      TEXT NOT NULL DEFAULT '',
    entity_id   INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    remind_at   INTEGER,
    reminded_at INTEGER,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    done_at     INTEGER,
    created_by  INTEGER,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
-- my open tasks by due time (workbench "due today" / "overdue")
CREATE INDEX task_assignee_open ON task (assignee_id, due_at, id) WHERE status = 'open';
-- the reminder job: open tasks whose reminder is due and not yet sent
CREATE INDEX task_remind_due ON task (remind_at) WHERE status = 'open' AND reminded_at IS NULL AND remind_at IS NOT NULL;
-- a customer's tasks
CREATE INDEX task_customer ON task (customer_id, due_at) WHERE customer_id IS NOT NULL;

-- Leave, training, a day off: while absent a user gets no new leads, and
-- approvals waiting for them may be decided by the delegate.
CREATE TABLE user_absence (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES app_user (id),
    from_at     INTEGER NOT NULL,
    until_at    INTEGER NOT NULL,
    delegate_id INTEGER REFERENCES app_user (id),
    reason      TEXT NOT NULL DEFAULT '',
    created_by  INTEGER,
    created_at  INTEGER NOT NULL,
    CHECK (until_at > from_at),
    CHECK (delegate_id IS NULL OR delegate_id <> user_id)
) STRICT;
-- "is this user absent at t" and a user's absence list
CREATE INDEX user_absence_user ON user_absence (user_id, until_at);

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
