// Package tradein is trade-ins (DOMAIN.md S8, 置换): used-car registration,
// appraisal with a condition checklist and photos, the offered value and how
// long it holds, the purchase agreement, and the appraised value that a quote
// for the new car credits.
package tradein

import (
	"context"
	"log/slog"

	"dealerdesk/app/api"
	"dealerdesk/app/approval"
	"dealerdesk/app/attach"
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

// NewService returns the trade-in service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
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

// ForQuote returns the credit of an appraised trade-in of the customer for a
// quote. Errors are apperr field errors on "tradeInId" (tradein.not_found,
// tradein.other_customer, tradein.not_appraised, tradein.expired,
// tradein.cancelled).
func (s *Service) ForQuote(ctx context.Context, q db.Querier, a auth.Actor, tradeInID, customerID int64) (Credit, error) {
	return Credit{}, nil // TODO(tradein): implemented by the trade-in work
}

// Gates are the SOP gate conditions trade-ins provide.
func (s *Service) Gates() []sop.Gate { return nil }

// Routes are the trade-in HTTP routes.
func (s *Service) Routes() []api.Route { return nil }

// Jobs are the scheduled checks (appraisal expiry).
func (s *Service) Jobs() []jobs.Job { return nil }
