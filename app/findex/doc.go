// Package findex keeps the global search index (package search) following the
// database, and answers the search box within the caller's data scope.
//
// Invariants:
//
//   - No lost update. A domain calls Mark inside the transaction that changes a
//     searchable record; the outbox row commits or rolls back with the change. The
//     worker deletes outbox rows only after the index holds the record's new state
//     (or its removal), and deletes only the rows it handled, so a crash at any
//     point leaves rows to redo, never a gap. Redoing is harmless: a drain loads
//     the record's current state.
//   - Never a half-built index. A full rebuild builds beside the live index and
//     swaps when finished (search.Rebuild); drains pause meanwhile and catch up
//     after, from the outbox.
//   - Same scope as the lists. Search turns the actor's data scope into a
//     search.Scope per kind exactly as auth.Filter does for SQL lists, and a kind
//     is searched only when the actor holds its read permission. The filter runs
//     inside the bleve query.
//   - The index is derived data: when it is missing, written by another mapping
//     version, or was built for other kinds than those registered now, Start
//     rebuilds it from the database in the background.
//
// Domains register a kind with Register (how to load documents by id, and how to
// page through all of them), call Mark in their write transactions and Wake after
// commit. findex imports no domain.
package findex
