// Package order is orders and delivery (DOMAIN.md S6) and deal profit (S7):
// contracts from accepted quotes with a number sequence per store, deposits and
// payments, the VIN allocated from stock, contract approval, PDI, delivery, the
// after-delivery callback ladder, reminders, cancellation, and the gross
// profit of each deal.
package order

import (
	"log/slog"

	"dealerdesk/app/api"
	"dealerdesk/app/approval"
	"dealerdesk/app/attach"
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

// NewService returns the order service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// Gates are the SOP gate conditions orders provide.
func (s *Service) Gates() []sop.Gate { return nil }

// Routes are the order HTTP routes.
func (s *Service) Routes() []api.Route { return nil }

// Jobs are the scheduled checks (balance and delivery reminders).
func (s *Service) Jobs() []jobs.Job { return nil }
