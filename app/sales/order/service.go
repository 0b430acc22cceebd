// Package order is orders and delivery (DOMAIN.md S6) and deal profit (S7):
// contracts from accepted quotes with a number sequence per store, deposits and
// payments, the VIN allocated from stock, contract approval, PDI, delivery, the
// after-delivery callback ladder, reminders, cancellation, and the gross
// profit of each deal.
package order

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/approval"
	"dealerdesk/app/attach"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/inventory"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/app/sales"
	"dealerdesk/app/sales/sop"
	"dealerdesk/app/task"
)

// Deps are the services orders use.
type Deps struct {
	DB        *db.DB
	Clock     clock.Clock
	Log       *slog.Logger
	Notify    *notify.Service
	Approval  *approval.Service
	Index     *findex.Service
	Tasks     *task.Service
	Attach    *attach.Service
	CRM       *crm.Service
	Inventory *inventory.Service
	SOP       *sop.Service
	Sales     *sales.Service
	Text      func(locale, key string) string
}

// Service serves orders.
type Service struct {
	d Deps
}

// NewService returns the order service and registers the contract approval
// document type.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{d: d}
	if d.Approval != nil {
		d.Approval.Register(s.contractDocType())
	}
	if d.Attach != nil {
		d.Attach.Register(AttachEntity, attachOwner)
	}
	if d.Index != nil {
		d.Index.Register(searchKind, auth.PermCustomerRead, s.searchDocs, s.searchAll, findex.LinkFormat("/sales/orders/%d"))
	}
	return s
}

// AttachEntity is the attachment entity of an order: the delivery photos with
// the customer (交车合影) and scanned documents, read and written with the
// rights on the order's customer.
const AttachEntity = "sales_order"

func attachOwner(ctx context.Context, q db.Querier, id int64) (attach.Owner, error) {
	var r auth.Record
	var owner, dept sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT c.store_id, c.owner_id, c.department_id FROM sales_order o JOIN customer c ON c.id = o.customer_id WHERE o.id = ?`, id).
		Scan(&r.StoreID, &owner, &dept)
	if errors.Is(err, sql.ErrNoRows) {
		return attach.Owner{}, apperr.New(apperr.NotFound, "not_found")
	}
	r.OwnerID, r.DepartmentID = owner.Int64, dept.Int64
	return attach.Owner{Record: r, ReadPerm: auth.PermCustomerRead, WritePerm: auth.PermSalesWrite}, err
}

// Gates are the SOP gate conditions orders provide: order_signed,
// deposit_paid, vin_allocated and pdi_done.
func (s *Service) Gates() []sop.Gate { return gates() }

// Routes are the order HTTP routes.
func (s *Service) Routes() []api.Route { return s.routes() }

// The job periods: the balance reminder looks days ahead, hourly is plenty;
// closing orders whose callbacks are all done can wait ten minutes.
const (
	jobEveryBalance = time.Hour
	jobEveryClose   = 10 * time.Minute
)

// Jobs are the scheduled checks: unpaid balances before the delivery date
// (the delivery appointment itself reminds through its task), and closing
// delivered orders whose callback ladder is done.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{
		{Name: "order_balance_reminder", Every: jobEveryBalance, Run: func(ctx context.Context) error { _, err := s.RemindBalances(ctx); return err }},
		{Name: "order_auto_close", Every: jobEveryClose, Run: func(ctx context.Context) error { _, err := s.CloseDone(ctx); return err }},
	}
}

func (s *Service) now() int64 { return s.d.Clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: "sales_order",
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

// afterCommit pushes what a committed write produced: notifications, the
// search index (vehicle and customer marks), approval messages.
func (s *Service) afterCommit() {
	if s.d.Notify != nil {
		s.d.Notify.Wake()
	}
	if s.d.Index != nil {
		s.d.Index.Wake()
	}
	if s.d.Approval != nil {
		s.d.Approval.Wake()
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
