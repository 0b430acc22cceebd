package sales

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

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
	s := &Service{d: d}
	if d.Approval != nil {
		d.Approval.Register(s.quoteDocType())
	}
	return s
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
	r, err := s.writableRow(ctx, tx, a, quoteID)
	if err != nil {
		return QuoteForOrder{}, err
	}
	switch {
	case !r.Latest:
		return QuoteForOrder{}, conflict("quote.superseded")
	case r.Status == StatusOrdered:
		return QuoteForOrder{}, conflict("quote.already_ordered")
	case r.Status == StatusPendingApproval:
		return QuoteForOrder{}, conflict("quote.approval_pending")
	case r.Status == StatusDraft && r.ApprStatus == "rejected":
		return QuoteForOrder{}, conflict("quote.approval_rejected")
	case r.Status != StatusAccepted:
		return QuoteForOrder{}, conflict("quote.not_accepted")
	case r.NeedsApproval && r.ApprStatus != "approved":
		return QuoteForOrder{}, conflict("quote.approval_pending")
	}
	now := s.now()
	res, err := tx.ExecContext(ctx, `UPDATE quote SET status = 'ordered', ordered_at = ?, rev = rev + 1, updated_at = ?, updated_by = ?
		WHERE id = ? AND status = 'accepted' AND latest = 1`, now, now, userID(a), quoteID)
	if err != nil {
		return QuoteForOrder{}, fmt.Errorf("sales: take quote %d: %w", quoteID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return QuoteForOrder{}, conflict("quote.already_ordered")
	}
	in, _, err := r.input()
	if err != nil {
		return QuoteForOrder{}, err
	}
	c, err := Compute(in)
	if err != nil {
		return QuoteForOrder{}, err
	}
	out := QuoteForOrder{QuoteID: r.ID, Number: r.Number, Version: r.Version, CustomerID: r.CustomerID, StoreID: r.StoreID,
		OwnerID: r.OwnerID.Int64, ModelID: r.ModelID, ColorName: r.Color,
		MSRPFen: int64(c.MSRP), VehiclePriceFen: int64(c.VehiclePrice), DiscountFen: int64(c.Discount),
		AccessoriesFen: int64(c.AccessoryPrice), AccessoriesCostFen: int64(c.AccessoryCost), InsuranceFen: r.Insurance,
		RegistrationFen: r.RegFee, PurchaseTaxFen: int64(c.PurchaseTax), ServiceFeeFen: r.ServFee, TradeInFen: int64(c.TradeIn),
		TradeInID: r.TradeInID.Int64, TotalFen: int64(c.Total),
		Financed: c.Financed, DownPaymentFen: int64(c.DownPayment), LoanFen: int64(c.AmountFinanced), TermMonths: c.Months,
		RateBP: int64(c.AnnualRateBP), MonthlyFen: int64(c.MonthlyPayment), FinanceCommissionFen: r.FinanceComm, InsuranceCommissionFen: r.InsuranceComm}
	if err := s.audit(ctx, tx, a, "order", r.ID, r.StoreID, map[string]any{"status": r.Status}, map[string]any{"status": StatusOrdered}); err != nil {
		return QuoteForOrder{}, err
	}
	return out, nil
}

// ReleaseQuoteTx returns a quote to "accepted" when the order made from it is
// cancelled, so a corrected order can be made from it again.
func (s *Service) ReleaseQuoteTx(ctx context.Context, tx *sql.Tx, quoteID int64) error {
	r, err := loadRow(ctx, tx, quoteID)
	if err != nil {
		return err
	}
	if r.Status != StatusOrdered {
		return nil // nothing to release (already accepted again, or never taken)
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE quote SET status = 'accepted', ordered_at = NULL, rev = rev + 1, updated_at = ?
		WHERE id = ? AND status = 'ordered'`, now, quoteID); err != nil {
		return fmt.Errorf("sales: release quote %d: %w", quoteID, err)
	}
	return s.audit(ctx, tx, auth.System("order"), "release", r.ID, r.StoreID, map[string]any{"status": StatusOrdered}, map[string]any{"status": StatusAccepted})
}

// Gates are the SOP gate conditions quotes provide: quote_created (the customer
// has a quote that is not cancelled) and quote_approved (the latest version of
// a quote is approved, sent, accepted or ordered: a quote that needed approval
// got it, or one within the limits went to the customer).
func (s *Service) Gates() []sop.Gate {
	return []sop.Gate{
		{Key: "quote_created", Check: func(ctx context.Context, q db.Querier, customerID int64) (bool, error) {
			return exists(ctx, q, `SELECT EXISTS (SELECT 1 FROM quote WHERE customer_id = ? AND status <> 'cancelled')`, customerID)
		}},
		{Key: "quote_approved", Check: func(ctx context.Context, q db.Querier, customerID int64) (bool, error) {
			return exists(ctx, q, `SELECT EXISTS (SELECT 1 FROM quote WHERE customer_id = ? AND latest = 1
				AND status IN ('approved', 'sent', 'accepted', 'ordered'))`, customerID)
		}},
	}
}

func exists(ctx context.Context, q db.Querier, query string, args ...any) (bool, error) {
	var ok bool
	if err := q.QueryRowContext(ctx, query, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("sales: gate: %w", err)
	}
	return ok, nil
}

// Jobs are the scheduled checks: quote expiry.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "quote_expiry", Every: jobEveryExpiry, Run: func(ctx context.Context) error { _, err := s.ExpireQuotes(ctx); return err }}}
}
