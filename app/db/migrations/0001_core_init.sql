-- Core schema: organisation (group, stores, departments/teams), roles and permissions,
-- users (employees), sign-in sessions and throttling, API keys, settings.
-- Conventions: STRICT tables, times in unix milliseconds UTC, enums as TEXT with CHECK,
-- a version column on records edited in forms (optimistic concurrency).

-- +goose Up
CREATE TABLE schema_checksum (
    version  INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    checksum TEXT NOT NULL
) STRICT;

CREATE TABLE org_group (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE store (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL COLLATE NOCASE UNIQUE,
    name       TEXT NOT NULL,
    brand      TEXT NOT NULL DEFAULT '',
    address    TEXT NOT NULL DEFAULT '',
    phone      TEXT NOT NULL DEFAULT '',
    letterhead TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE role (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    builtin    INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
    scope      TEXT NOT NULL CHECK (scope IN ('own', 'team', 'store', 'group')),
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE role_permission (
    role_id    INTEGER NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
) STRICT, WITHOUT ROWID;

CREATE TABLE department (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES store (id),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('sales', 'dcc', 'service', 'parts', 'finance', 'admin', 'marketing', 'management', 'other')),
    parent_id  INTEGER REFERENCES department (id),
    manager_id INTEGER REFERENCES app_user (id) DEFERRABLE INITIALLY DEFERRED,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (store_id, name)
) STRICT;

CREATE TABLE app_user (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL COLLATE NOCASE UNIQUE,
    name                 TEXT NOT NULL,
    phone                TEXT UNIQUE, -- normalized 11-digit mobile; NULL when none
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    password_changed_at  INTEGER,
    role_id              INTEGER NOT NULL REFERENCES role (id),
    store_id             INTEGER NOT NULL REFERENCES store (id),
    department_id        INTEGER REFERENCES department (id),
    status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    locale               TEXT NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en')),
    last_login_at        INTEGER,
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;
-- users list: filter by store, role, department; keyset on id
CREATE INDEX app_user_store ON app_user (store_id, id);
CREATE INDEX app_user_role ON app_user (role_id, id);
CREATE INDEX app_user_department ON app_user (department_id, id);
-- users list sorted by name / username (the UNIQUE on username serves that sort)
CREATE INDEX app_user_name ON app_user (name, id);

-- Server-side sessions: the cookie carries a random token, the table its SHA-256,
-- so a copy of the database cannot be used to sign in.
CREATE TABLE session (
    token_hash   BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    store_id     INTEGER NOT NULL REFERENCES store (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL, -- absolute lifetime
    reauth_at    INTEGER NOT NULL, -- last time the password was entered
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
-- sign out everywhere / disable user: delete by user
CREATE INDEX session_user ON session (user_id);

-- Failed sign-ins per account ("u:<id>") and per client address ("ip:<addr>").
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    first_failure_at INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until    INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

CREATE TABLE api_key (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    role_id      INTEGER NOT NULL REFERENCES role (id),
    store_id     INTEGER NOT NULL REFERENCES store (id),
    created_by   INTEGER NOT NULL REFERENCES app_user (id),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;

CREATE TABLE setting (
    key        TEXT NOT NULL,
    store_id   INTEGER NOT NULL DEFAULT 0, -- 0: the whole group
    value      TEXT NOT NULL CHECK (json_valid(value)),
    version    INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL,
    updated_by INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, store_id)
) STRICT, WITHOUT ROWID;

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
