package notify

import (
	"context"
	"crypto/x509"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/app/jobs"
)

// Retention is how long a read notification is kept; unread ones are kept until read.
const Retention = 180 * 24 * time.Hour

// Service writes notifications, serves the inbox and streams new ones live.
type Service struct {
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger
	// rules reads the session rules (idle timeout) to end streams of idle
	// sessions; it is the auth service's own reader of the security settings.
	rules *auth.Service

	hub         *hub
	wake        chan struct{} // capacity 1: Wake calls coalesce
	deliverWake chan struct{} // the delivery worker's, likewise
	done        chan struct{} // closed by Close: every stream and the worker end
	closeOnce   sync.Once
	startOnce   sync.Once
	wg          sync.WaitGroup

	mu           sync.Mutex
	stopDelivery context.CancelFunc // cancels the worker's sends at Close

	// text renders robot and e-mail messages (SetText); http sends robot and
	// webhook requests.
	text atomic.Pointer[func(locale, key string) string]
	http *http.Client

	// Test switches (export_test.go): paused stops the worker's own runs (tests
	// call DeliverDue themselves); anyHost lets robot URLs point at a local
	// server; tlsRoots are the CAs e-mail servers are checked against (nil: the
	// system's).
	paused   atomic.Bool
	anyHost  atomic.Bool
	tlsRoots atomic.Pointer[x509.CertPool]

	// Stream timings in nanoseconds; tests shorten them (export_test.go) while
	// the server runs, hence atomics.
	heartbeat    atomic.Int64 // comment line and session re-check
	poll         atomic.Int64 // fallback look for new rows when no Wake came
	writeTimeout atomic.Int64 // a client that cannot take an event within this is dropped
}

// NewService returns the notification service and starts its wake-up loop.
func NewService(d *db.DB, c clock.Clock, log *slog.Logger) *Service {
	s := &Service{db: d, clock: c, log: log, rules: auth.NewService(d, c, log), hub: newHub(),
		wake: make(chan struct{}, 1), deliverWake: make(chan struct{}, 1), done: make(chan struct{}),
		http: &http.Client{Timeout: sendTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, not a place to send secrets and personal data to
		}}}
	s.heartbeat.Store(int64(25 * time.Second))
	s.poll.Store(int64(10 * time.Second))
	s.writeTimeout.Store(int64(15 * time.Second))
	s.wg.Add(1)
	go s.run()
	return s
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// Close ends every stream, stops the wake-up loop and the delivery worker (at
// shutdown, before the HTTP server waits for requests in flight), and waits for
// them. It is safe to call twice.
func (s *Service) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.mu.Lock()
	if s.stopDelivery != nil {
		s.stopDelivery()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// run turns Wake calls into pokes of just the streams whose users got something
// new: one query over the ids added since the last look.
func (s *Service) run() {
	defer s.wg.Done()
	last := int64(-1) // highest id already announced; -1: unknown
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		if s.hub.count() == 0 {
			last = -1 // nobody listens; start afresh when someone does
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		next, users, err := newSince(ctx, s.db.R, last)
		cancel()
		if err != nil {
			s.log.Warn("notify wake", "err", err)
			continue
		}
		if last < 0 {
			s.hub.pokeAll()
		} else {
			for _, u := range users {
				s.hub.poke(u)
			}
		}
		last = next
	}
}

// Jobs is the scheduled work: purging old read notifications and old rows of
// the delivery logs.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "notify.purge", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
		n, err := s.Purge(ctx)
		if err == nil && n > 0 {
			s.log.Info("purged read notifications", "count", n)
		}
		return err
	}}, {Name: "notify.purge_deliveries", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
		n, err := s.PurgeDeliveries(ctx)
		if err == nil && n > 0 {
			s.log.Info("purged delivery log rows", "count", n)
		}
		return err
	}}}
}

// Purge deletes read notifications older than Retention, in small batches so the
// single writer is never held long. It returns how many it deleted.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	cut := s.clock.Now().Add(-Retention).UnixMilli()
	var total int64
	for {
		var n int64
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			r, err := tx.ExecContext(ctx, `DELETE FROM notification WHERE id IN
				(SELECT id FROM notification WHERE read_at IS NOT NULL AND created_at < ? LIMIT 2000)`, cut)
			if err != nil {
				return fmt.Errorf("notify: purge: %w", err)
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < 2000 {
			return total, nil
		}
	}
}

// user returns the actor's user id; API keys have no inbox.
func user(a auth.Actor) (int64, error) {
	if a.UserID == 0 {
		return 0, apperr.New(apperr.Forbidden, "forbidden")
	}
	return a.UserID, nil
}

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: entity,
		EntityID: strconv.FormatInt(id, 10), StoreID: a.HomeStoreID, Before: before, After: after})
}

// auditAt writes an audit row of a record of the store.
func (s *Service) auditAt(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: entity,
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}
