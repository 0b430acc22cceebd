package inventory

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
)

// Service serves the inventory domain: the catalogue and the vehicle stock.
type Service struct {
	db     *db.DB
	clock  clock.Clock
	log    *slog.Logger
	notify *notify.Service
	index  *findex.Service
	text   func(locale, key string) string
}

// Deps are the platform services inventory uses.
type Deps struct {
	DB     *db.DB
	Clock  clock.Clock
	Log    *slog.Logger
	Notify *notify.Service
	Index  *findex.Service
	Text   func(locale, key string) string // UI text for server-made files (export headers)
}

// NewService returns the inventory service and registers the vehicle search
// documents with the global search.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: d.DB, clock: d.Clock, log: d.Log, notify: d.Notify, index: d.Index, text: d.Text}
	if s.index != nil {
		s.index.Register(searchKind, auth.PermVehicleRead, s.searchDocs, s.searchAll, findex.LinkFormat("/inventory/vehicles/%d"), findex.StoreWide())
	}
	return s
}

// The job periods: reservations expire within a minute of their time; ageing is
// a matter of days, so once a day is enough (and restarts lose nothing: the job
// looks at the data, not at a timer).
const (
	jobEveryExpiry = time.Minute
	jobEveryAgeing = 24 * time.Hour
)

// Jobs are the scheduled checks: expired reservations every minute, ageing daily.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{
		{Name: "vehicle_reservation_expiry", Every: jobEveryExpiry, Run: func(ctx context.Context) error { _, err := s.ExpireReservations(ctx); return err }},
		{Name: "vehicle_ageing", Every: jobEveryAgeing, Run: func(ctx context.Context) error { _, err := s.RunAgeing(ctx); return err }},
	}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: entity,
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

// afterCommit pushes what a committed write produced: live notifications and the
// search index. Both also catch up on their own, so a missed call only delays.
func (s *Service) afterCommit() {
	if s.notify != nil {
		s.notify.Wake()
	}
	if s.index != nil {
		s.index.Wake()
	}
}

// Stock belongs to a store and has no owner: a consultant sells from the whole
// showroom, so own and team scopes read their home store's stock, the same as
// store scope. (auth.Filter would give an own-scope role nothing on a table
// without an owner column.)
func vehicleScope(a auth.Actor, perm string) sq.Sqlizer {
	if !a.Has(perm) {
		return sq.Expr("0")
	}
	if a.Scope == auth.ScopeGroup {
		return sq.Expr("1")
	}
	return sq.Eq{"v.store_id": a.HomeStoreID}
}

// storeAccess checks perm on a store's stock: 403 without the permission, 404
// for a store outside the actor's reach.
func storeAccess(a auth.Actor, perm string, storeID int64) error {
	if err := auth.Require(a, perm); err != nil {
		return err
	}
	if a.Scope != auth.ScopeGroup && storeID != a.HomeStoreID {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}
