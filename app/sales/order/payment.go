package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Payment is one money movement of an order: a deposit (定金), a further
// payment (首付/尾款/贷款放款) or a refund (negative, with a reason).
type Payment struct {
	ID              int64  `json:"id"`
	Kind            string `json:"kind"`   // deposit | payment | refund
	Method          string `json:"method"` // cash | card | transfer | wechat | alipay | loan
	AmountFen       int64  `json:"amountFen"`
	ReceivedAt      int64  `json:"receivedAt"`
	Reference       string `json:"reference"`
	Note            string `json:"note"`
	Status          string `json:"status"` // recorded | confirmed | void
	RecordedByName  string `json:"recordedByName"`
	ConfirmedByName string `json:"confirmedByName"`
	ConfirmedAt     *int64 `json:"confirmedAt"`
	CreatedAt       int64  `json:"createdAt"`
}

// Payment kinds and methods.
var (
	PaymentKinds   = []string{"deposit", "payment"}
	PaymentMethods = []string{"cash", "card", "transfer", "wechat", "alipay", "loan"}
)

func loadPayments(ctx context.Context, q db.Querier, orderID int64) ([]Payment, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.kind, p.method, p.amount, p.received_at, p.reference, p.note, p.status, COALESCE(r.name, ''), COALESCE(c.name, ''),
		p.confirmed_at, p.created_at FROM sales_order_payment p LEFT JOIN app_user r ON r.id = p.recorded_by LEFT JOIN app_user c ON c.id = p.confirmed_by
		WHERE p.order_id = ? ORDER BY p.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("order: payments of %d: %w", orderID, err)
	}
	defer rows.Close()
	out := []Payment{}
	for rows.Next() {
		var p Payment
		var conf sql.NullInt64
		if err := rows.Scan(&p.ID, &p.Kind, &p.Method, &p.AmountFen, &p.ReceivedAt, &p.Reference, &p.Note, &p.Status, &p.RecordedByName, &p.ConfirmedByName,
			&conf, &p.CreatedAt); err != nil {
			return nil, err
		}
		p.ConfirmedAt = ptr(conf)
		out = append(out, p)
	}
	return out, rows.Err()
}

// PaymentInput records money received (sales.write: the consultant at the
// desk, e.g. the deposit at signing).
type PaymentInput struct {
	Kind       string `json:"kind"`
	Method     string `json:"method"`
	AmountFen  int64  `json:"amountFen"`
	ReceivedAt int64  `json:"receivedAt"` // ms; 0: now
	Reference  string `json:"reference"`  // the POS slip, transfer or loan reference
	Note       string `json:"note"`
	Version    int64  `json:"version"`
}

func (in *PaymentInput) validate(now int64, refund bool) error {
	in.Reference, in.Note = strings.TrimSpace(in.Reference), strings.TrimSpace(in.Note)
	f := apperr.Fields{}
	if !refund && !contains(PaymentKinds, in.Kind) {
		f.Add("kind", "required")
	}
	if !contains(PaymentMethods, in.Method) {
		f.Add("method", "required")
	}
	if in.AmountFen <= 0 {
		f.Add("amountFen", "order.amount_positive")
	} else if in.AmountFen > 100_000_000_00 {
		f.Add("amountFen", "out_of_range", "min", 0.01, "max", 100000000)
	}
	if in.ReceivedAt == 0 {
		in.ReceivedAt = now
	} else if in.ReceivedAt > now+day || in.ReceivedAt < now-365*day {
		f.Add("receivedAt", "order.date_range")
	}
	limitText(f, "reference", in.Reference, 100)
	limitText(f, "note", in.Note, 500)
	if refund && in.Note == "" {
		f.Add("note", "order.refund_reason")
	}
	return f.Err()
}

// AddPayment records a deposit or payment. The balance never goes below zero:
// a payment above it is refused (order.overpaid).
func (s *Service) AddPayment(ctx context.Context, a auth.Actor, id int64, in PaymentInput) (Order, error) {
	if err := auth.Require(a, auth.PermSalesWrite); err != nil {
		return Order{}, err
	}
	if err := in.validate(s.now(), false); err != nil {
		return Order{}, err
	}
	return s.update(ctx, a, id, s.writable, func(tx *sql.Tx, o Order) error {
		if err := fresh(o, in.Version); err != nil {
			return err
		}
		if o.Status == StatusCancelled || o.Status == StatusClosed {
			return wrongStatus(o.Status)
		}
		if in.AmountFen > o.BalanceFen {
			return apperr.Field("amountFen", "order.overpaid", "balanceFen", o.BalanceFen)
		}
		return s.insertPayment(ctx, tx, a, o, in.Kind, in.Method, in.AmountFen, in.ReceivedAt, in.Reference, in.Note)
	})
}

// insertPayment writes the entry, moves the order's paid sum by a conditional
// update (paid stays within 0 … total), and records audit and timeline.
func (s *Service) insertPayment(ctx context.Context, tx *sql.Tx, a auth.Actor, o Order, kind, method string, amount, at int64, ref, note string) error {
	now := s.now()
	r, err := tx.ExecContext(ctx, `INSERT INTO sales_order_payment (order_id, store_id, kind, method, amount, received_at, reference, note, recorded_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, o.ID, o.StoreID, kind, method, amount, at, ref, note, nullable(a.UserID), now)
	if err != nil {
		return fmt.Errorf("order: payment of %d: %w", o.ID, err)
	}
	pid, _ := r.LastInsertId()
	if err := s.bumpPaid(ctx, tx, a, o, amount); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, a, "payment", o.ID, o.StoreID, map[string]any{"paidFen": o.PaidFen},
		map[string]any{"paymentId": pid, "kind": kind, "method": method, "amountFen": amount, "reference": ref, "note": note, "paidFen": o.PaidFen + amount}); err != nil {
		return err
	}
	ev := "order.payment"
	if kind == "refund" {
		ev = "order.refund"
	}
	return s.event(ctx, tx, a, o, ev, map[string]any{"kind": kind, "method": method, "amountFen": amount, "paidFen": o.PaidFen + amount, "note": note})
}

func (s *Service) bumpPaid(ctx context.Context, tx *sql.Tx, a auth.Actor, o Order, amount int64) error {
	r, err := tx.ExecContext(ctx, `UPDATE sales_order SET paid = paid + ?, version = version + 1, updated_at = ?, updated_by = ?
		WHERE id = ? AND paid + ? >= 0 AND (paid + ? <= max(total - trade_in, 0) OR ? < 0)`, amount, s.now(), nullable(a.UserID), o.ID, amount, amount, amount)
	if err != nil {
		return fmt.Errorf("order: paid of %d: %w", o.ID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		if amount < 0 {
			return apperr.Field("amountFen", "order.refund_exceeds", "paidFen", o.PaidFen)
		}
		return apperr.Field("amountFen", "order.overpaid", "balanceFen", o.BalanceFen)
	}
	return nil
}

// RefundInput returns money to the customer (finance.write).
type RefundInput struct {
	Method     string `json:"method"`
	AmountFen  int64  `json:"amountFen"` // positive: the amount returned
	ReceivedAt int64  `json:"receivedAt"`
	Reference  string `json:"reference"`
	Reason     string `json:"reason"`
	Version    int64  `json:"version"`
}

// Refund records a refund as a negative entry with its reason; at most what
// was paid.
func (s *Service) Refund(ctx context.Context, a auth.Actor, id int64, in RefundInput) (Order, error) {
	if err := auth.Require(a, auth.PermFinanceWrite); err != nil {
		return Order{}, err
	}
	pin := PaymentInput{Method: in.Method, AmountFen: in.AmountFen, ReceivedAt: in.ReceivedAt, Reference: in.Reference, Note: in.Reason}
	if err := pin.validate(s.now(), true); err != nil {
		if e := apperr.As(err); e != nil {
			if fe, ok := e.Fields["note"]; ok {
				delete(e.Fields, "note")
				e.Fields["reason"] = fe
			}
		}
		return Order{}, err
	}
	return s.update(ctx, a, id, s.financeAccess, func(tx *sql.Tx, o Order) error {
		if err := fresh(o, in.Version); err != nil {
			return err
		}
		if pin.AmountFen > o.PaidFen {
			return apperr.Field("amountFen", "order.refund_exceeds", "paidFen", o.PaidFen)
		}
		return s.insertPayment(ctx, tx, a, o, "refund", pin.Method, -pin.AmountFen, pin.ReceivedAt, pin.Reference, pin.Note)
	})
}

// PaymentActionInput confirms or voids an entry (finance.write).
type PaymentActionInput struct {
	Note string `json:"note"`
}

// ConfirmPayment marks a recorded entry confirmed by finance (the money is in
// the account).
func (s *Service) ConfirmPayment(ctx context.Context, a auth.Actor, id, paymentID int64) (Order, error) {
	return s.paymentAction(ctx, a, id, paymentID, "confirm", "")
}

// VoidPayment strikes out an entry recorded by mistake (finance.write, with a
// reason); the paid sum moves back.
func (s *Service) VoidPayment(ctx context.Context, a auth.Actor, id, paymentID int64, in PaymentActionInput) (Order, error) {
	in.Note = strings.TrimSpace(in.Note)
	if in.Note == "" {
		return Order{}, apperr.Field("note", "required")
	}
	if len([]rune(in.Note)) > 500 {
		return Order{}, apperr.Field("note", "too_long", "max", 500)
	}
	return s.paymentAction(ctx, a, id, paymentID, "void", in.Note)
}

func (s *Service) paymentAction(ctx context.Context, a auth.Actor, id, paymentID int64, action, note string) (Order, error) {
	if err := auth.Require(a, auth.PermFinanceWrite); err != nil {
		return Order{}, err
	}
	return s.update(ctx, a, id, s.financeAccess, func(tx *sql.Tx, o Order) error {
		var amount int64
		var status string
		err := tx.QueryRowContext(ctx, `SELECT amount, status FROM sales_order_payment WHERE id = ? AND order_id = ?`, paymentID, id).Scan(&amount, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "not_found")
		} else if err != nil {
			return err
		}
		now := s.now()
		var r sql.Result
		if action == "confirm" {
			r, err = tx.ExecContext(ctx, `UPDATE sales_order_payment SET status = 'confirmed', confirmed_by = ?, confirmed_at = ?, version = version + 1
				WHERE id = ? AND status = 'recorded'`, nullable(a.UserID), now, paymentID)
		} else {
			r, err = tx.ExecContext(ctx, `UPDATE sales_order_payment SET status = 'void', confirmed_by = ?, confirmed_at = ?, note = ?, version = version + 1
				WHERE id = ? AND status = 'recorded'`, nullable(a.UserID), now, note, paymentID)
		}
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "order.payment_not_open")
		}
		if action == "void" {
			if err := s.bumpPaid(ctx, tx, a, o, -amount); err != nil {
				return apperr.New(apperr.Conflict, "order.void_refused")
			}
			// The payment was on the timeline: so is its voiding.
			if err := s.event(ctx, tx, a, o, "order.payment_void", map[string]any{"paymentId": paymentID, "amountFen": amount,
				"paidFen": o.PaidFen - amount, "note": note}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "payment_"+action, o.ID, o.StoreID, map[string]any{"paymentId": paymentID, "status": status},
			map[string]any{"paymentId": paymentID, "status": map[string]string{"confirm": "confirmed", "void": "void"}[action], "note": note})
	})
}

// ProfitInput are the deal profit figures finance keeps (finance.write and
// cost.read): the commissions the lender and insurer pay, and the
// manufacturer rebate once known (null: the expected % of the settings).
type ProfitInput struct {
	FinanceCommissionFen   int64  `json:"financeCommissionFen"`
	InsuranceCommissionFen int64  `json:"insuranceCommissionFen"`
	RebateFen              *int64 `json:"rebateFen"`
	Version                int64  `json:"version"`
}

// SetProfitInputs saves the finance figures of a deal.
func (s *Service) SetProfitInputs(ctx context.Context, a auth.Actor, id int64, in ProfitInput) (Order, error) {
	if err := auth.Require(a, auth.PermFinanceWrite); err != nil {
		return Order{}, err
	}
	f := apperr.Fields{}
	for k, v := range map[string]int64{"financeCommissionFen": in.FinanceCommissionFen, "insuranceCommissionFen": in.InsuranceCommissionFen} {
		if v < 0 || v > 10_000_000_00 {
			f.Add(k, "out_of_range", "min", 0, "max", 10000000)
		}
	}
	if in.RebateFen != nil && (*in.RebateFen < 0 || *in.RebateFen > 10_000_000_00) {
		f.Add("rebateFen", "out_of_range", "min", 0, "max", 10000000)
	}
	if err := f.Err(); err != nil {
		return Order{}, err
	}
	return s.update(ctx, a, id, s.financeAccess, func(tx *sql.Tx, o Order) error {
		if !a.Has(auth.PermCostRead) {
			return apperr.New(apperr.NotFound, "not_found")
		}
		if o.Status == StatusCancelled {
			return wrongStatus(o.Status)
		}
		var rebate any
		if in.RebateFen != nil {
			rebate = *in.RebateFen
		}
		if _, err := s.move(ctx, tx, a, o, in.Version, Statuses, o.Status, map[string]any{"finance_commission": in.FinanceCommissionFen,
			"insurance_commission": in.InsuranceCommissionFen, "rebate": rebate}); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "profit_inputs", o.ID, o.StoreID,
			map[string]any{"financeCommissionFen": o.costRaw.financeCommission, "insuranceCommissionFen": o.costRaw.insuranceCommission, "rebateFen": o.costRaw.rebate},
			map[string]any{"financeCommissionFen": in.FinanceCommissionFen, "insuranceCommissionFen": in.InsuranceCommissionFen, "rebateFen": in.RebateFen})
	})
}
