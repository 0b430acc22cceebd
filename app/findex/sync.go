package findex

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"dealerdesk/search"
)

// ErrRebuilding is returned by Rebuild while another rebuild runs.
var ErrRebuilding = errors.New("findex: a rebuild is already running")

// errNotOpen is returned by Drain before Start.
var errNotOpen = errors.New("findex: index not open")

// Drain applies queued changes to the index until the outbox is empty, and
// returns how many outbox rows it handled. It waits for a drain or rebuild in
// progress; during a rebuild of a stale index (nothing open) it does nothing.
func (s *Service) Drain(ctx context.Context) (int, error) {
	s.work.Lock()
	defer s.work.Unlock()
	return s.drain(ctx)
}

// drainIfIdle is the worker's pass: it skips when a drain or rebuild is running.
func (s *Service) drainIfIdle(ctx context.Context) (int, error) {
	if !s.work.TryLock() {
		return 0, nil
	}
	defer s.work.Unlock()
	return s.drain(ctx)
}

func (s *Service) drain(ctx context.Context) (int, error) {
	ix := s.index()
	if ix == nil {
		if s.running.Load() {
			return 0, nil // a stale index is being rebuilt; the rows wait
		}
		return 0, errNotOpen
	}
	total := 0
	for {
		n, err := s.drainBatch(ctx, ix)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

type outboxRow struct {
	id       int64
	kind     string
	entityID int64
	queuedAt int64
}

// drainBatch handles the oldest outbox rows (at most pageSize): loads the
// records, upserts the documents, removes the records that are gone, then deletes
// exactly those rows.
func (s *Service) drainBatch(ctx context.Context, ix *search.Index) (int, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, kind, entity_id, queued_at FROM search_outbox ORDER BY id LIMIT ?`, pageSize)
	if err != nil {
		return 0, fmt.Errorf("findex: read outbox: %w", err)
	}
	var batch []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.id, &r.kind, &r.entityID, &r.queuedAt); err != nil {
			rows.Close()
			return 0, fmt.Errorf("findex: read outbox: %w", err)
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("findex: read outbox: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}

	byKind := map[string][]int64{}
	seen := map[string]bool{}
	for _, r := range batch {
		key := r.kind + ":" + strconv.FormatInt(r.entityID, 10)
		if !seen[key] {
			seen[key] = true
			byKind[r.kind] = append(byKind[r.kind], r.entityID)
		}
	}
	names := make([]string, 0, len(byKind))
	for k := range byKind {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		ids := byKind[name]
		k := s.kind(name)
		if k == nil {
			// Nothing can search an unregistered kind; a rebuild after it is
			// registered (Start notices the new kind) brings its records in.
			s.log.Warn("search outbox rows of an unregistered kind dropped", "kind", name, "count", len(ids))
			continue
		}
		docs, err := k.load(ctx, s.db.R, ids)
		if err != nil {
			return 0, fmt.Errorf("findex: load %s: %w", name, err)
		}
		present := make(map[string]bool, len(docs))
		for _, d := range docs {
			if d.Kind != name || !strings.HasPrefix(d.ID, name+":") {
				return 0, fmt.Errorf("findex: load %s returned document %q of kind %q", name, d.ID, d.Kind)
			}
			present[d.ID] = true
		}
		var gone []string
		for _, id := range ids {
			if docID := docID(name, id); !present[docID] {
				gone = append(gone, docID)
			}
		}
		if err := ix.Upsert(docs...); err != nil {
			return 0, err
		}
		if err := ix.Delete(gone...); err != nil {
			return 0, err
		}
	}

	// Only now, with the index holding the new state, forget the rows handled.
	// Rows marked meanwhile have other ids and stay for the next batch.
	for start := 0; start < len(batch); start += 500 {
		part := batch[start:min(start+500, len(batch))]
		args := make([]any, len(part))
		for i, r := range part {
			args[i] = r.id
		}
		q := `DELETE FROM search_outbox WHERE id IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		if _, err := s.db.W.ExecContext(ctx, q, args...); err != nil {
			return 0, fmt.Errorf("findex: clear outbox: %w", err)
		}
	}
	lag := s.clock.Now().UnixMilli() - batch[0].queuedAt
	s.log.Debug("search index updated", "rows", len(batch), "lag_ms", lag)
	return len(batch), nil
}

func docID(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// Rebuild makes a fresh index of every registered kind from the database and
// swaps it in; queued changes are drained after. Without Start (the console's
// reindex), the index must not be open in another process (the server): the
// error then wraps search.ErrInUse.
func (s *Service) Rebuild(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRebuilding
	}
	defer s.running.Store(false)
	return s.rebuild(ctx)
}

// StartRebuild starts Rebuild in the background (on the worker's context) and
// reports whether it did; false means a rebuild is running already.
func (s *Service) StartRebuild() bool {
	if !s.running.CompareAndSwap(false, true) {
		return false
	}
	ctx := s.runCtx
	if ctx == nil {
		ctx = context.Background()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.running.Store(false)
		if err := s.rebuild(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("search index rebuild failed", "err", err)
		}
		s.Wake()
	}()
	return true
}

// Rebuilding reports whether a rebuild is running.
func (s *Service) Rebuilding() bool { return s.running.Load() }

// progressEvery is how many documents pass between progress log lines.
const progressEvery = 50_000

func (s *Service) rebuild(ctx context.Context) error {
	s.work.Lock()
	defer s.work.Unlock()
	start := time.Now()
	s.mu.RLock()
	kinds := make([]*kind, 0, len(s.kinds))
	for _, k := range s.kinds {
		kinds = append(kinds, k)
	}
	s.mu.RUnlock()
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].name < kinds[j].name })

	s.log.Info("search index rebuild started", "kinds", len(kinds))
	n := 0
	fill := func(add func(search.Doc) error) error {
		for _, k := range kinds {
			after := int64(0)
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				docs, last, err := k.all(ctx, s.db.R, after, pageSize)
				if err != nil {
					return fmt.Errorf("findex: read %s: %w", k.name, err)
				}
				for _, d := range docs {
					if err := add(d); err != nil {
						return err
					}
					n++
					if n%progressEvery == 0 {
						s.log.Info("search index rebuild progress", "docs", n, "kind", k.name, "ms", time.Since(start).Milliseconds())
					}
				}
				if last <= after {
					break
				}
				after = last
			}
		}
		return nil
	}

	ix := s.index()
	var err error
	if ix != nil {
		err = ix.Rebuild(fill)
	} else {
		err = search.Rebuild(s.dir, fill)
	}
	if err != nil {
		return err
	}
	if ix == nil && s.runCtx != nil {
		// Started on a stale index: open the new one now.
		nix, err := search.Open(s.dir)
		if err != nil {
			return fmt.Errorf("findex: open rebuilt index: %w", err)
		}
		s.mu.Lock()
		s.ix = nix
		s.mu.Unlock()
	}
	if err := s.writeKinds(); err != nil {
		return fmt.Errorf("findex: record kinds: %w", err)
	}
	s.log.Info("search index rebuilt", "docs", n, "ms", time.Since(start).Milliseconds())
	return nil
}
