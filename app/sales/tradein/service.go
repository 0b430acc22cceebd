// Package tradein is trade-ins (DOMAIN.md S8, 置换): used-car registration,
// appraisal with a condition checklist and photos, the offered value and how
// long it holds, the purchase agreement, and the appraised value that a quote
// for the new car credits.
package tradein

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/approval"
	"dealerdesk/app/attach"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/app/sales/sop"
	"dealerdesk/app/task"
)

// Deps are the services trade-ins use.
type Deps struct {
	DB       *db.DB
	Clock    clock.Clock
	Log      *slog.Logger
	Notify   *notify.Service
	Approval *approval.Service
	Index    *findex.Service
	Tasks    *task.Service
	Attach   *attach.Service
	CRM      *crm.Service
	SOP      *sop.Service
	Text     func(locale, key string) string
}

// Service serves trade-ins.
type Service struct {
	d Deps
}

// NewService returns the trade-in service and registers "trade_in" as an
// owner of attachments (the appraisal photos): read with the customer's
// customer.read, uploaded and deleted with sales.write in the customer's scope.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{d: d}
	if d.Attach != nil {
		d.Attach.Register(attachEntity, s.attachOwner)
	}
	return s
}

// attachEntity is the attachment owner type of appraisal photos.
const attachEntity = "trade_in"

func (s *Service) attachOwner(ctx context.Context, q db.Querier, id int64) (attach.Owner, error) {
	var r auth.Record
	var owner, dept sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT c.store_id, c.owner_id, c.department_id FROM trade_in t JOIN customer c ON c.id = t.customer_id WHERE t.id = ?`, id).
		Scan(&r.StoreID, &owner, &dept)
	if errors.Is(err, sql.ErrNoRows) {
		return attach.Owner{}, apperr.New(apperr.NotFound, "not_found")
	}
	r.OwnerID, r.DepartmentID = owner.Int64, dept.Int64
	return attach.Owner{Record: r, ReadPerm: auth.PermCustomerRead, WritePerm: auth.PermSalesWrite}, err
}

func (s *Service) now() int64 { return s.d.Clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: "trade_in",
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

// afterCommit wakes live notifications (the timeline's readers catch up themselves).
func (s *Service) afterCommit() {
	if s.d.Notify != nil {
		s.d.Notify.Wake()
	}
}

func userID(a auth.Actor) any {
	if a.UserID == 0 {
		return nil
	}
	return a.UserID
}

// Credit is what a quote credits for a trade-in: the appraised value, valid
// until a time.
type Credit struct {
	ID         int64
	CustomerID int64
	ValueFen   int64  // the offered (appraised) value
	ValidUntil int64  // unix ms; a quote may not credit an expired appraisal
	Label      string // e.g. "2019 大众 朗逸 浙A·12345" for the quote and print view
}

// Gates are the SOP gate conditions trade-ins provide: tradein_appraised, the
// customer has an appraised trade-in whose offer still holds (or one already
// purchased).
func (s *Service) Gates() []sop.Gate {
	return []sop.Gate{{Key: "tradein_appraised", Check: func(ctx context.Context, q db.Querier, customerID int64) (bool, error) {
		var n int
		err := q.QueryRowContext(ctx, `SELECT count(*) FROM trade_in WHERE customer_id = ? AND
			((status = 'appraised' AND valid_until > ?) OR status = 'purchased')`, customerID, s.now()).Scan(&n)
		return n > 0, err
	}}}
}

// jobEveryExpiry: offers expire within a minute of their time.
const jobEveryExpiry = time.Minute

// Jobs are the scheduled checks (appraisal expiry).
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "tradein_expiry", Every: jobEveryExpiry, Run: func(ctx context.Context) error { _, err := s.ExpireAppraisals(ctx); return err }}}
}
