package demo_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
	"dealerdesk/app/sales/order"
)

// TestFillAll_OrdersAcrossTheLifeCycle: the full demo gives every store a
// dozen orders at every point of the process, made from accepted quotes (some
// financed, some crediting a trade-in, one over the discount limit and
// approved); every sold or delivered car belongs to its order and a cancelled
// order's car is back in stock; customers' lifecycle and pipeline stages follow
// their orders; delivered orders are paid in full with callbacks done and
// open; the consultant "sales" sees today's delivery on the workbench.
func TestFillAll_OrdersAcrossTheLifeCycle(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	start := time.Now()
	if _, _, err := demo.FillAll(t.Context(), env.App.DB, demo.ScaleDemo, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	t.Logf("FillAll in %s", time.Since(start))
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := env.App.DB.R.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	for store := 1; store <= 3; store++ {
		n := count(`SELECT count(*) FROM sales_order WHERE store_id = ?`, store)
		if n < 10 || n > 14 {
			t.Fatalf("store %d has %d orders, want 10–14", store, n)
		}
		for _, st := range order.Statuses {
			if count(`SELECT count(*) FROM sales_order WHERE store_id = ? AND status = ?`, store, st) == 0 {
				t.Fatalf("store %d has no %s order", store, st)
			}
		}
		if count(`SELECT count(*) FROM sales_order o JOIN quote q ON q.id = o.quote_id WHERE o.store_id = ? AND q.needs_approval = 1 AND q.approval_status = 'approved'`, store) != 1 {
			t.Fatalf("store %d: no order from an approved special price", store)
		}
		if count(`SELECT count(*) FROM sales_order WHERE store_id = ? AND financed = 1 AND loan > 0`, store) < 3 {
			t.Fatalf("store %d: fewer than 3 financed orders", store)
		}
	}
	if count(`SELECT count(*) FROM sales_order WHERE trade_in_id IS NOT NULL AND trade_in > 0`) < 2 {
		t.Fatal("fewer than 2 orders credit a trade-in")
	}
	// Quotes behind the orders: ordered, or accepted again after a cancellation.
	if k := count(`SELECT count(*) FROM sales_order o JOIN quote q ON q.id = o.quote_id
		WHERE NOT (q.status = 'ordered' AND o.status <> 'cancelled' OR q.status = 'accepted' AND o.status = 'cancelled')`); k != 0 {
		t.Fatalf("%d orders whose quote is not ordered (or accepted again once cancelled)", k)
	}
	// Stock: every sold car is allocated to a live order before delivery, every
	// delivered car to a delivered or closed order, and the other way round.
	if k := count(`SELECT count(*) FROM vehicle v WHERE v.status = 'sold' AND NOT EXISTS (SELECT 1 FROM sales_order o
		WHERE o.vehicle_id = v.id AND o.status IN ('vin_allocated', 'pdi_done', 'delivery_scheduled'))`); k != 0 {
		t.Fatalf("%d sold cars without their order", k)
	}
	if k := count(`SELECT count(*) FROM vehicle v WHERE v.status = 'delivered' AND NOT EXISTS (SELECT 1 FROM sales_order o
		WHERE o.vehicle_id = v.id AND o.status IN ('delivered', 'closed'))`); k != 0 {
		t.Fatalf("%d delivered cars without their order", k)
	}
	if k := count(`SELECT count(*) FROM sales_order o JOIN vehicle v ON v.id = o.vehicle_id WHERE
		NOT (o.status IN ('vin_allocated', 'pdi_done', 'delivery_scheduled') AND v.status = 'sold' OR o.status IN ('delivered', 'closed') AND v.status = 'delivered'
		OR o.status = 'cancelled' AND v.status = 'in_stock')`); k != 0 {
		t.Fatalf("%d orders whose car has the wrong status", k)
	}
	if count(`SELECT count(*) FROM sales_order o JOIN vehicle v ON v.id = o.vehicle_id WHERE o.status = 'cancelled' AND v.status = 'in_stock'`) < 3 {
		t.Fatal("no store has an order cancelled after its car was allocated")
	}
	// Customers follow their orders.
	if k := count(`SELECT count(*) FROM sales_order o JOIN customer c ON c.id = o.customer_id
		JOIN customer_sop s ON s.customer_id = c.id JOIN sop_stage st ON st.id = s.stage_id
		WHERE o.status IN ('delivered', 'closed') AND NOT (c.stage = 'delivered' AND st.sys_key = 'delivery')
		OR o.status IN ('signed', 'vin_allocated', 'pdi_done', 'delivery_scheduled') AND NOT (c.stage = 'ordered' AND st.sys_key = 'contract')`); k != 0 {
		t.Fatalf("%d customers whose lifecycle or pipeline stage does not follow their order", k)
	}
	if k := count(`SELECT count(*) FROM customer c WHERE c.stage IN ('ordered', 'delivered') AND NOT EXISTS (SELECT 1 FROM sales_order o WHERE o.customer_id = c.id)`); k != 0 {
		t.Fatalf("%d ordered/delivered customers without an order", k)
	}
	// Money and callbacks.
	if k := count(`SELECT count(*) FROM sales_order WHERE status IN ('delivered', 'closed') AND paid <> total - trade_in`); k != 0 {
		t.Fatalf("%d delivered orders not paid in full", k)
	}
	if count(`SELECT count(*) FROM task WHERE kind = 'callback' AND status = 'done'`) < 9 || count(`SELECT count(*) FROM task WHERE kind = 'callback' AND status = 'open'`) < 3 {
		t.Fatal("want callbacks both done and open")
	}
	// The demo consultant's deals, one delivery today on the workbench.
	if n := count(`SELECT count(*) FROM sales_order o JOIN app_user u ON u.id = o.owner_id WHERE u.username = 'sales'`); n < 3 {
		t.Fatalf("the consultant sales owns %d orders, want at least 3", n)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := env.Clock.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	var l struct {
		Items []order.Order `json:"items"`
	}
	env.As("sales").Do("GET", "/orders?status=delivery_scheduled&deliveryFrom="+strconv.FormatInt(from.UnixMilli(), 10)+"&deliveryTo="+strconv.FormatInt(from.AddDate(0, 0, 1).UnixMilli(), 10), nil).
		Expect(t, http.StatusOK).JSON(t, &l)
	if len(l.Items) == 0 {
		t.Fatal("the consultant sales has no delivery today")
	}
}
