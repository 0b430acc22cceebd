-- Notification delivery (DOMAIN.md P5, outgoing part): a store's chat robots
-- (WeCom, DingTalk, Feishu) and e-mail as further channels of the notification
-- service, and outgoing webhooks that tell other systems about business events.
-- Both work through an outbox: the domain's transaction only inserts delivery
-- rows; a worker sends them afterwards, outside any transaction, with retries.
-- The delivery tables are the queue and the delivery log at once.
-- Invariants kept here, not in Go: one robot post per event and channel
-- (UNIQUE (channel_id, group_key)); one delivery per event and webhook
-- (UNIQUE (webhook_id, event_id)); a row is claimed by one worker at a time
-- (conditional UPDATE on status and lease_until).

-- +goose Up
-- A delivery channel of one store. kinds: the notification kinds it receives
-- (JSON array of codes). config (JSON): robots {url, secret, mentionMobiles,
-- linkBase}; e-mail {host, port, security, username, password, from, to, linkBase}.
-- The robot URL holds its token and secret/password are credentials: the API
-- shows them masked and never returns them.
CREATE TABLE notify_channel (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES store (id),
    type       TEXT NOT NULL CHECK (type IN ('wecom', 'dingtalk', 'feishu', 'email')),
    name       TEXT NOT NULL CHECK (name <> ''),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    kinds      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(kinds) AND json_type(kinds) = 'array'),
    config     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES app_user (id),
    updated_at INTEGER NOT NULL,
    updated_by INTEGER REFERENCES app_user (id),
    last_ok_at INTEGER,
    last_error TEXT NOT NULL DEFAULT ''
) STRICT;
-- the channels list of a store (GET /notify/channels?storeId=) and Send's look-up
-- of the enabled channels of the message's store (kinds tested on those few rows)
CREATE INDEX notify_channel_store ON notify_channel (store_id, id);

-- One message to one channel: the queue and the delivery log. group_key is
-- sha256(kind|title|params|entity|id) plus the 10-minute bucket of the send, so
-- a message that reaches several users in one transaction posts once.
-- attempted_at: the last attempt's start, counted by the per-channel rate limit.
CREATE TABLE notify_delivery (
    id           INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL REFERENCES notify_channel (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,          -- notification kind, or 'test' for a test message
    group_key    TEXT NOT NULL,
    title        TEXT NOT NULL,          -- rendered (zh-CN), personal data masked; the e-mail subject
    body         TEXT NOT NULL,          -- rendered robot text / e-mail body
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,       -- due time of the next attempt
    lease_until  INTEGER,                -- while 'sending': when another worker may take it over
    attempted_at INTEGER,
    last_error   TEXT NOT NULL DEFAULT '', -- sanitized: never the URL's token or a secret
    response     TEXT NOT NULL DEFAULT '', -- the vendor's short answer
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    UNIQUE (channel_id, group_key)
) STRICT;
-- the worker's claim: rows due (pending, or sending with an expired lease) by next_at
CREATE INDEX notify_delivery_due ON notify_delivery (next_at) WHERE status IN ('pending', 'sending');
-- the delivery log of one channel, newest first (keyset on id; status tested on its rows)
CREATE INDEX notify_delivery_channel ON notify_delivery (channel_id, id);
-- the rate limit: attempts per channel in the last minute
CREATE INDEX notify_delivery_attempted ON notify_delivery (channel_id, attempted_at) WHERE attempted_at IS NOT NULL;
-- the delivery log filtered by status across channels, newest first
CREATE INDEX notify_delivery_status ON notify_delivery (status, id);
-- the purge job: finished rows past the log's retention
CREATE INDEX notify_delivery_done ON notify_delivery (created_at) WHERE status IN ('sent', 'failed');

-- An outgoing webhook: business events POSTed as signed JSON to url. store_id
-- NULL: events of every store. secret is the HMAC key of the signature header,
-- made by the server and shown once. events: JSON array of event types.
CREATE TABLE webhook (
    id                    INTEGER PRIMARY KEY,
    store_id              INTEGER REFERENCES store (id),
    name                  TEXT NOT NULL CHECK (name <> ''),
    url                   TEXT NOT NULL,
    secret                TEXT NOT NULL,
    events                TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(events) AND json_type(events) = 'array'),
    include_personal_data INTEGER NOT NULL DEFAULT 0 CHECK (include_personal_data IN (0, 1)),
    enabled               INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    version               INTEGER NOT NULL DEFAULT 1,
    created_at            INTEGER NOT NULL,
    created_by            INTEGER REFERENCES app_user (id),
    updated_at            INTEGER NOT NULL,
    updated_by            INTEGER REFERENCES app_user (id),
    last_ok_at            INTEGER,
    last_error            TEXT NOT NULL DEFAULT ''
) STRICT;
-- Emit's look-up of the enabled webhooks of the event's store and the group-wide
-- ones (store_id IS NULL), and the webhooks list of a store
CREATE INDEX webhook_store ON webhook (store_id, id);

-- One event to one webhook: the queue and the delivery log. payload is the exact
-- JSON body (the signature covers these bytes); a redelivery sends it again.
CREATE TABLE webhook_delivery (
    id            INTEGER PRIMARY KEY,
    webhook_id    INTEGER NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
    event_id      TEXT NOT NULL,           -- "evt_" + 24 hex; also the X-DealerDesk-Delivery header
    event_type    TEXT NOT NULL,
    payload       TEXT NOT NULL CHECK (json_valid(payload)),
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    lease_until   INTEGER,
    response_code INTEGER,                 -- HTTP status of the last attempt; NULL: no answer
    response_body TEXT NOT NULL DEFAULT '', -- first 1 KB of the last answer
    last_error    TEXT NOT NULL DEFAULT '',
    duration_ms   INTEGER,
    created_at    INTEGER NOT NULL,
    delivered_at  INTEGER,
    UNIQUE (webhook_id, event_id)
) STRICT;
-- the worker's claim: rows due by next_at
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_at) WHERE status IN ('pending', 'sending');
-- the deliveries of one webhook, newest first (keyset on id; status tested on its rows)
CREATE INDEX webhook_delivery_webhook ON webhook_delivery (webhook_id, id);
-- the purge job: finished rows past the log's retention
CREATE INDEX webhook_delivery_done ON webhook_delivery (created_at) WHERE status IN ('sent', 'failed');

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
