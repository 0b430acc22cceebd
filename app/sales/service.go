package sales

import (
	"context"
	"database/sql"
	"log/slog"

	"dealerdesk/app/api"
	"dealerdesk/app/approval"
	"dealerdesk/app/attach"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/crm"
	"dealerdesk/app/db"
	"dealerdesk/app/findex"
	"dealerdesk/app/inventory"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
	"dealerdesk/app/sales/sop"
	"dealerdesk/app/sales/tradein"
	"dealerdesk/app/task"
)

// Deps are the services quotes and trade-ins use.
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
	TradeIns  *tradein.Service
	Text      func(locale, key string) string
}

// Service serves quotes (S4) and trade-ins (S8).
type Service struct {
	d Deps
}

// NewService returns the quote and trade-in service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// QuoteForOrder is what an order takes over from the quote it is made from:
// the figures the customer accepted, frozen as they were quoted.
type QuoteForOrder struct {
	QuoteID    int64
	Number     string // the quote number as printed
	Version    int
	CustomerID int64
	StoreID    int64
	OwnerID    int64
	ModelID    int64
	ColorName  string
	// Money, all in fen.
	MSRPFen            int64
	VehiclePriceFen    int64 // after discount
	DiscountFen        int64
	AccessoriesFen     int64 // selling price of the accessory packages
	AccessoriesCostFen int64 // their cost (deal profit)
	InsuranceFen       int64
	RegistrationFen    int64
	PurchaseTaxFen     int64
	ServiceFeeFen      int64
	TradeInFen         int64 // the appraised value credited
	TradeInID          int64 // 0 without a trade-in
	TotalFen           int64 // out-the-door total
	// Finance plan; Financed is false for a cash purchase.
	Financed               bool
	DownPaymentFen         int64
	LoanFen                int64
	TermMonths             int
	RateBP                 int64 // annual rate in basis points
	MonthlyFen             int64
	FinanceCommissionFen   int64 // expected from the lender (deal profit)
	InsuranceCommissionFen int64
}

// TakeQuoteTx hands an accepted quote to a new order inside the order's
// transaction: the quote must be the customer's current version, accepted, and
// approved where its discount needed approval; it becomes "ordered" so that it
// cannot make a second order. Errors are apperr codes quote.* (not_accepted,
// approval_pending, approval_rejected, already_ordered, superseded).
func (s *Service) TakeQuoteTx(ctx context.Context, tx *sql.Tx, a auth.Actor, quoteID int64) (QuoteForOrder, error) {
	return QuoteForOrder{}, nil // TODO(quote): implemented by the quote work
}

// ReleaseQuoteTx returns a quote to "accepted" when the order made from it is
// cancelled, so a corrected order can be made from it again.
func (s *Service) ReleaseQuoteTx(ctx context.Context, tx *sql.Tx, quoteID int64) error {
	return nil // TODO(quote): implemented by the quote work
}

// Gates are the SOP gate conditions quotes and trade-ins provide.
func (s *Service) Gates() []sop.Gate { return nil }

// Routes are the quote and trade-in HTTP routes.
func (s *Service) Routes() []api.Route { return nil }

// Jobs are the scheduled checks (quote and appraisal expiry).
func (s *Service) Jobs() []jobs.Job { return nil }
