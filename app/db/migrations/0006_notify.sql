-- Notifications (DOMAIN.md P5, in-app part): the one in-app inbox every module writes to, and
-- each user's choices of which kinds reach them on which channel.

-- +goose Up
-- One row per message to one user. Domains insert in the same transaction as the
-- change that caused it. Titles are i18n keys rendered with params in the reader's
-- language, so a message reads right after a language switch.
-- AUTOINCREMENT: ids are the SSE event ids a browser resumes from (Last-Event-ID),
-- so an id must never be handed out twice, even after the newest row was purged.
CREATE TABLE notification (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    store_id   INTEGER REFERENCES store (id),
    kind       TEXT NOT NULL CHECK (kind <> ''),
    title_key  TEXT NOT NULL CHECK (title_key LIKE 'notify.msg.%'),
    params     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
    link       TEXT NOT NULL DEFAULT '',
    entity     TEXT NOT NULL DEFAULT '',
    entity_id  INTEGER NOT NULL DEFAULT 0,
    dedup_key  TEXT NOT NULL DEFAULT '',
    level      TEXT NOT NULL DEFAULT 'info' CHECK (level IN ('info', 'warning', 'urgent')),
    created_at INTEGER NOT NULL,
    read_at    INTEGER
) STRICT;
-- Send: INSERT … ON CONFLICT DO NOTHING. A scheduled reminder carries a key built
-- from what it is about (e.g. "task:12:<remind_at>"), so a job that runs twice, a
-- restart or a clock jump never delivers it twice.
CREATE UNIQUE INDEX notification_dedup ON notification (user_id, dedup_key) WHERE dedup_key <> '';
-- the bell: unread count, and the "unread only" list newest first (keyset on id)
CREATE INDEX notification_user_unread ON notification (user_id, read_at, id);
-- the notification centre (all, newest first, keyset on id) and the SSE stream's
-- "newer than the last event id" poll
CREATE INDEX notification_user_id ON notification (user_id, id);
-- the purge job: read notifications past the retention period
CREATE INDEX notification_read_created ON notification (created_at) WHERE read_at IS NOT NULL;

-- A user's choice for one kind on one channel. No row means the channel's default
-- (in_app and popup: on).
-- Mandatory kinds (SLA escalations, approval requests) ignore rows; the service
-- refuses to store "off" for them. 'email' is reserved for the e-mail channel;
-- chat robots post to a store's group chat and are store settings, not user choices.
CREATE TABLE notify_pref (
    user_id    INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('in_app', 'popup', 'email')),
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
) STRICT, WITHOUT ROWID;

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
