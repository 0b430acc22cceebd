package order

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/notify"
	"dealerdesk/app/sales"
)

// ListFilter selects orders for the list (newest first, keyset on id; the
// indexes are in 0017_order.sql).
type ListFilter struct {
	StoreID      int64    `query:"storeId"`
	Statuses     []string `query:"status"` // comma list
	OwnerID      int64    `query:"ownerId"`
	CustomerID   int64    `query:"customerId"`
	DeliveryFrom int64    `query:"deliveryFrom"` // the appointment, else the planned date, at or after (ms)
	DeliveryTo   int64    `query:"deliveryTo"`   // … before (ms)
	BalanceDue   bool     `query:"balanceDue"`   // only orders with money still to pay
	Q            string   `query:"q"`            // contract number or customer name
	Cursor       string   `query:"cursor"`
	Limit        int      `query:"limit"`
}

// List returns a page of orders in the actor's customer scope.
func (s *Service) List(ctx context.Context, a auth.Actor, f ListFilter) (api.List[Order], error) {
	out := api.List[Order]{Items: []Order{}}
	if err := auth.Require(a, auth.PermCustomerRead); err != nil {
		return out, err
	}
	fe := apperr.Fields{}
	for _, st := range f.Statuses {
		if !contains(Statuses, st) {
			fe.Add("status", "invalid_format")
		}
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		fe.Add("limit", "out_of_range", "min", 1, "max", 200)
	}
	cur, err := api.ParseCursor(f.Cursor)
	if err != nil {
		fe.Add("cursor", "invalid_format")
	}
	if err := fe.Err(); err != nil {
		return out, err
	}
	w := sq.And{auth.Filter(a, auth.PermCustomerRead, auth.Columns{Store: "c.store_id", Owner: "c.owner_id", Department: "c.department_id"})}
	if f.StoreID != 0 {
		w = append(w, sq.Eq{"o.store_id": f.StoreID})
	}
	if len(f.Statuses) > 0 {
		w = append(w, sq.Eq{"o.status": f.Statuses})
	}
	if f.OwnerID != 0 {
		w = append(w, sq.Eq{"o.owner_id": f.OwnerID})
	}
	if f.CustomerID != 0 {
		w = append(w, sq.Eq{"o.customer_id": f.CustomerID})
	}
	// The delivery date of an order is its appointment once booked, else the
	// date promised in the contract (a store has a few thousand orders a year:
	// the store index narrows enough for this expression).
	if f.DeliveryFrom != 0 {
		w = append(w, sq.Expr("COALESCE(o.delivered_at, o.delivery_at, o.planned_delivery_at) >= ?", f.DeliveryFrom))
	}
	if f.DeliveryTo != 0 {
		w = append(w, sq.Expr("COALESCE(o.delivered_at, o.delivery_at, o.planned_delivery_at) < ?", f.DeliveryTo))
	}
	if f.BalanceDue {
		w = append(w, sq.Expr("o.paid < o.total - o.trade_in AND o.status NOT IN ('cancelled')"))
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
		w = append(w, sq.Or{sq.Expr(`o.contract_no LIKE ? ESCAPE '\'`, like), sq.Expr(`c.name LIKE ? ESCAPE '\'`, like), sq.Expr("o.vin = ?", strings.ToUpper(q))})
	}
	if cur.ID > 0 {
		w = append(w, sq.Lt{"o.id": cur.ID})
	}
	query, args, err := sq.Select(orderCols).From(orderFrom[len(" FROM "):]).Where(w).OrderBy("o.id DESC").Limit(uint64(f.Limit + 1)).ToSql()
	if err != nil {
		return out, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("order: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return out, err
		}
		o.finish(a)
		o.PDI, o.DeliveryChecklist = nil, nil
		out.Items = append(out.Items, o)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if len(out.Items) > f.Limit {
		out.Items = out.Items[:f.Limit]
		out.Next = api.Cursor{ID: out.Items[f.Limit-1].ID}.Encode()
	}
	return out, nil
}

// RemindBalances tells consultants of orders whose balance is unpaid a few days
// (the store's setting) before the delivery date — the appointment, else the
// contract's planned date — once per order and date (the dedup key). It
// returns how many reminders it sent.
func (s *Service) RemindBalances(ctx context.Context) (int, error) {
	if s.d.Notify == nil {
		return 0, nil
	}
	now := s.now()
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT o.id, o.store_id, o.owner_id, o.contract_no, c.name, o.total - o.trade_in - o.paid, COALESCE(o.delivery_at, o.planned_delivery_at)
		FROM sales_order o JOIN customer c ON c.id = o.customer_id
		WHERE o.status IN ('draft', 'signed', 'vin_allocated', 'pdi_done', 'delivery_scheduled') AND o.paid < o.total - o.trade_in
		AND COALESCE(o.delivery_at, o.planned_delivery_at) BETWEEN ? AND ? LIMIT 2000`, now, now+60*day)
	if err != nil {
		return 0, fmt.Errorf("order: balances due: %w", err)
	}
	type due struct {
		id, store, owner, balance, at int64
		no, customer                  string
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.store, &d.owner, &d.no, &d.customer, &d.balance, &d.at); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	settings := map[int64]Settings{}
	sent := 0
	err = s.d.DB.WriteTx(ctx, func(tx *sql.Tx) error {
		for _, d := range list {
			st, ok := settings[d.store]
			if !ok {
				var err error
				if st, err = LoadSettings(ctx, tx, d.store); err != nil {
					return err
				}
				settings[d.store] = st
			}
			if st.BalanceReminderDays == 0 || d.at > now+int64(st.BalanceReminderDays)*day {
				continue
			}
			n, err := s.d.Notify.Send(ctx, tx, notify.Message{UserID: d.owner, StoreID: d.store, Kind: "order.balance_due", TitleKey: "notify.msg.order_balance_due",
				Params: map[string]any{"contractNo": d.no, "customer": d.customer, "balance": sales.Fen(d.balance).String(),
					"date": time.UnixMilli(d.at).In(chinaTime).Format("2006-01-02")},
				Link: fmt.Sprintf("/sales/orders/%d", d.id), Entity: "order", EntityID: d.id,
				DedupKey: fmt.Sprintf("order.balance_due:%d:%d", d.id, d.at), Level: notify.LevelWarning})
			if err != nil {
				return err
			}
			if n != 0 {
				sent++
			}
		}
		return nil
	})
	if sent > 0 {
		s.d.Notify.Wake()
	}
	return sent, err
}
