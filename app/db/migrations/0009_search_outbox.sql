-- The search outbox: a row per record whose search document must be refreshed.
-- Domains insert rows (findex.Mark) in the same transaction as the change, so a
-- crash never loses an index update; the findex worker loads the records, updates
-- the bleve index and then deletes exactly the rows it handled. The index itself
-- is derived data and lives outside the database (<data>/search).

-- +goose Up
CREATE TABLE search_outbox (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,              -- the search kind, e.g. 'customer'
    entity_id INTEGER NOT NULL,           -- the record's id in its own table
    queued_at INTEGER NOT NULL            -- unix ms; only to report how far behind the index is
) STRICT;
-- The worker reads in primary-key order (oldest first) and deletes by primary
-- key, so no further index is needed.

-- Forward-only: there is no Down; DealerDesk never migrates a database backwards (restore a backup instead).
