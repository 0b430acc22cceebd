package findex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/search"
)

// LoadFunc returns the search documents of the records with the given ids that
// exist (and should be searchable); an id without a document is removed from the
// index.
type LoadFunc func(ctx context.Context, q db.Querier, ids []int64) ([]search.Doc, error)

// AllFunc pages through every record of a kind for a rebuild: the documents of at
// most limit records with id > afterID in id order, and the last id looked at
// (which may be past the last document when records are skipped). Returning a last
// id not above afterID ends the kind.
type AllFunc func(ctx context.Context, q db.Querier, afterID int64, limit int) ([]search.Doc, int64, error)

// Option adjusts a registered kind.
type Option func(*kind)

// LinkFormat sets the UI route of a hit, a fmt format taking the record id, e.g.
// "/crm/customers/%d".
func LinkFormat(format string) Option { return func(k *kind) { k.link = format } }

// StoreWide makes a kind's records visible store-wide to own- and team-scope
// actors: records with no owner (vehicles in stock) that everyone of the store
// works with.
func StoreWide() Option { return func(k *kind) { k.storeWide = true } }

// Version sets the version of a kind's documents (default 1). Raise it when the
// kind's LoadFunc/AllFunc put something new into the documents: the next Start
// rebuilds the index.
func Version(v int) Option { return func(k *kind) { k.version = v } }

type kind struct {
	name    string
	perm    string
	load    LoadFunc
	all     AllFunc
	link    string
	version int
	// storeWide: own/team actors see the records of their home store.
	storeWide bool
}

// Service keeps the index in sync and searches it.
type Service struct {
	db    *db.DB
	dir   string
	clock clock.Clock
	log   *slog.Logger

	// Every is the period of the background drain pass (Wake starts one at once).
	Every time.Duration

	mu    sync.RWMutex
	kinds map[string]*kind
	ix    *search.Index // nil until opened, and while a stale index is rebuilt

	work    sync.Mutex  // one drain or rebuild at a time
	running atomic.Bool // a rebuild is running
	wake    chan struct{}
	runCtx  context.Context // the worker's context, set by Start
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// pageSize is how many records a rebuild reads per query, and how many outbox
// rows a drain handles per batch.
const pageSize = 1000

// NewService returns the service for the index in dir (e.g. <data>/search). It
// does nothing until Start; Rebuild and Drain also work without Start (the
// console's reindex).
func NewService(d *db.DB, dir string, c clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if c == nil {
		c = clock.System{}
	}
	return &Service{db: d, dir: dir, clock: c, log: log, Every: 5 * time.Second,
		kinds: map[string]*kind{}, wake: make(chan struct{}, 1)}
}

// Register adds a searchable kind: perm is the permission that lets an actor
// find records of the kind (within the actor's data scope); load and all make
// its documents. Register before Start.
func (s *Service) Register(name, perm string, load LoadFunc, all AllFunc, opts ...Option) {
	k := &kind{name: name, perm: perm, load: load, all: all, version: 1}
	for _, o := range opts {
		o(k)
	}
	s.mu.Lock()
	s.kinds[name] = k
	s.mu.Unlock()
}

// Mark queues the records for re-indexing. Call it inside the transaction that
// changes them (q is the transaction), and Wake after the commit.
func Mark(ctx context.Context, q db.Querier, kind string, ids ...int64) error {
	// queued_at only reports how far behind the index is; nothing depends on it,
	// so it takes the wall clock rather than an injected one.
	now := time.Now().UnixMilli()
	for _, id := range ids {
		if _, err := q.ExecContext(ctx, `INSERT INTO search_outbox (kind, entity_id, queued_at) VALUES (?, ?, ?)`, kind, id, now); err != nil {
			return fmt.Errorf("findex: mark %s %d: %w", kind, id, err)
		}
	}
	return nil
}

// Wake asks the worker for a drain pass now (after a commit that marked records).
// It never blocks.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start opens the index and starts the worker: a drain pass on Wake and every
// Every. When the index is missing, stale or built for other kinds, it is rebuilt
// in the background (searches meanwhile answer from what there is, or nothing).
func (s *Service) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	s.runCtx, s.cancel = ctx, cancel
	ix, err := search.Open(s.dir)
	rebuild := ""
	switch {
	case errors.Is(err, search.ErrStale):
		rebuild = err.Error()
	case err != nil:
		cancel()
		return fmt.Errorf("findex: open index: %w", err)
	case ix.NeedsRebuild():
		rebuild = "new index"
	case !s.kindsMatch():
		rebuild = "searchable kinds changed"
	}
	s.mu.Lock()
	s.ix = ix
	s.mu.Unlock()
	if rebuild != "" {
		s.log.Info("search index will be rebuilt", "reason", rebuild)
		s.StartRebuild()
	}
	s.wg.Add(1)
	go s.loop(ctx)
	return nil
}

// Stop stops the worker (waiting for a running drain or rebuild to end) and closes
// the index.
func (s *Service) Stop() error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix == nil {
		return nil
	}
	err := s.ix.Close()
	s.ix = nil
	return err
}

func (s *Service) loop(ctx context.Context) {
	defer s.wg.Done()
	every := s.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var failedAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		_, err := s.drainIfIdle(ctx)
		switch {
		case errors.Is(err, errNotOpen):
			// The rebuild of a stale index failed: try again, once a minute.
			if time.Since(failedAt) > time.Minute {
				failedAt = time.Now()
				s.StartRebuild()
			}
		case err != nil && ctx.Err() == nil:
			s.log.Error("search drain failed", "err", err)
		}
	}
}

// kindsFile records which kinds (and versions) the index was last built for.
func (s *Service) kindsFile() string { return s.dir + ".kinds.json" }

func (s *Service) signature() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var sig []string
	for _, k := range s.kinds {
		sig = append(sig, fmt.Sprintf("%s@%d", k.name, k.version))
	}
	slices.Sort(sig)
	return sig
}

func (s *Service) kindsMatch() bool {
	b, err := os.ReadFile(s.kindsFile())
	if err != nil {
		return false
	}
	var got []string
	if json.Unmarshal(b, &got) != nil {
		return false
	}
	return slices.Equal(got, s.signature())
}

func (s *Service) writeKinds() error {
	b, _ := json.Marshal(s.signature())
	tmp := s.kindsFile() + ".tmp"
	if err := os.MkdirAll(filepath.Dir(tmp), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.kindsFile())
}

func (s *Service) kind(name string) *kind {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.kinds[name]
}

func (s *Service) index() *search.Index {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ix
}

func splitID(id string) (string, string) {
	k, v, _ := strings.Cut(id, ":")
	return k, v
}
