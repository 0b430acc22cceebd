package order_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
	"dealerdesk/app/findex"
	"dealerdesk/app/sales"
	"dealerdesk/app/sales/order"
)

// newEnv is the demo organisation with the demo stock (36 cars a store).
func newEnv(t *testing.T) *apptest.Env {
	t.Helper()
	env := apptest.NewDemo(t)
	if _, err := demo.FillStock(t.Context(), env.App.DB, env.Clock.Now(), 36); err != nil {
		t.Fatal(err)
	}
	return env
}

// car is an in-stock vehicle of store 1 from the demo stock.
type car struct {
	ID, ModelID int64
	Color, VIN  string
	Cost        int64
}

// stockCars returns n in-stock cars of store 1 of one model (the model with
// the most such cars), with a cost.
func stockCars(t *testing.T, env *apptest.Env, n int) []car {
	t.Helper()
	var model int64
	if err := env.App.DB.R.QueryRow(`SELECT model_id FROM vehicle WHERE store_id = 1 AND status = 'in_stock' AND cost IS NOT NULL
		GROUP BY model_id ORDER BY count(*) DESC, model_id LIMIT 1`).Scan(&model); err != nil {
		t.Fatal(err)
	}
	rows, err := env.App.DB.R.Query(`SELECT id, model_id, color, vin, cost FROM vehicle WHERE store_id = 1 AND status = 'in_stock' AND model_id = ? AND cost IS NOT NULL ORDER BY id LIMIT ?`, model, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []car
	for rows.Next() {
		var c car
		if err := rows.Scan(&c.ID, &c.ModelID, &c.Color, &c.VIN, &c.Cost); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if len(out) < n {
		t.Fatalf("demo stock has %d in-stock cars of model %d, want %d", len(out), model, n)
	}
	return out
}

var phoneSeq = struct {
	sync.Mutex
	n int
}{}

// newCustomer makes a customer owned by the consultant c.
func newCustomer(t *testing.T, c *apptest.Client) int64 {
	t.Helper()
	phoneSeq.Lock()
	phoneSeq.n++
	phone := fmt.Sprintf("1770000%04d", phoneSeq.n)
	phoneSeq.Unlock()
	var res struct {
		CustomerID int64 `json:"customerId"`
	}
	c.Do("POST", "/leads", map[string]any{"phone": phone, "channel": "walk_in", "assign": "me", "name": "订单测试" + phone[7:]}).Expect(t, http.StatusCreated).JSON(t, &res)
	return res.CustomerID
}

// acceptedQuote makes, sends and accepts a quote within the limits.
func acceptedQuote(t *testing.T, c *apptest.Client, customerID int64, cr car, body map[string]any) sales.QuoteDoc {
	t.Helper()
	b := map[string]any{"customerId": customerID, "modelId": cr.ModelID, "color": cr.Color, "discount": 100_000}
	for k, v := range body {
		b[k] = v
	}
	var q sales.QuoteDoc
	c.Do("POST", "/quotes", b).Expect(t, http.StatusCreated).JSON(t, &q)
	for _, action := range []string{"send", "accept"} {
		r := c.Do("POST", fmt.Sprintf("/quotes/%d/%s", q.ID, action), map[string]any{"rev": q.Rev})
		r.Expect(t, http.StatusOK).JSON(t, &q)
	}
	return q
}

func get(t *testing.T, c *apptest.Client, id int64) order.Order {
	t.Helper()
	var o order.Order
	c.Do("GET", fmt.Sprintf("/orders/%d", id), nil).Expect(t, http.StatusOK).JSON(t, &o)
	return o
}

func post(t *testing.T, c *apptest.Client, id int64, action string, body any, status int) order.Order {
	t.Helper()
	method := "POST"
	if action == "pdi" || action == "checklist" || action == "profit-inputs" {
		method = "PUT"
	}
	r := c.Do(method, fmt.Sprintf("/orders/%d/%s", id, action), body)
	if r.Status != status {
		t.Fatalf("%s order %d: got %d %s, want %d", action, id, r.Status, r.Body, status)
	}
	var o order.Order
	if status == http.StatusOK {
		r.JSON(t, &o)
	}
	return o
}

func createOrder(t *testing.T, c *apptest.Client, quoteID int64) order.Order {
	t.Helper()
	var o order.Order
	c.Do("POST", "/orders", map[string]any{"quoteId": quoteID, "plannedDeliveryAt": apptest.Start.Add(10 * 24 * time.Hour).UnixMilli()}).Expect(t, http.StatusCreated).JSON(t, &o)
	return o
}

// sign submits the contract and has the sales manager approve it.
func sign(t *testing.T, env *apptest.Env, c *apptest.Client, id int64) order.Order {
	t.Helper()
	o := post(t, c, id, "submit", map[string]any{}, http.StatusOK)
	if o.Status != order.StatusPendingApproval || o.ApprovalID == nil {
		t.Fatalf("submitted order: %s %v", o.Status, o.ApprovalID)
	}
	env.As("sales_manager").Do("POST", fmt.Sprintf("/approvals/%d/approve", *o.ApprovalID), map[string]any{}).Expect(t, http.StatusOK)
	o = get(t, c, id)
	if o.Status != order.StatusSigned || o.SignedAt == nil {
		t.Fatalf("approved order: %s", o.Status)
	}
	return o
}

// signedOrder is a signed order of a new customer for the first car of cars.
func signedOrder(t *testing.T, env *apptest.Env, c *apptest.Client, cr car) order.Order {
	t.Helper()
	cust := newCustomer(t, c)
	q := acceptedQuote(t, c, cust, cr, nil)
	o := createOrder(t, c, q.ID)
	return sign(t, env, c, o.ID)
}

func pdiAllOK(o order.Order) map[string]any {
	items := []map[string]any{}
	for _, it := range o.PDI {
		items = append(items, map[string]any{"key": it.Key, "state": "ok"})
	}
	return map[string]any{"items": items, "complete": true}
}

func checklistAll(o order.Order) map[string]any {
	items := []map[string]any{}
	for _, it := range o.DeliveryChecklist {
		items = append(items, map[string]any{"key": it.Key, "done": true})
	}
	return map[string]any{"items": items}
}

func vehicleStatus(t *testing.T, env *apptest.Env, id int64) string {
	t.Helper()
	var s string
	if err := env.App.DB.R.QueryRow(`SELECT status FROM vehicle WHERE id = ?`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOrder_FromQuoteToDeliveryWithCallbacks(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	cust := newCustomer(t, c)
	q := acceptedQuote(t, c, cust, cars[0], map[string]any{"serviceFee": 150_000})
	o := createOrder(t, c, q.ID)
	if !strings.HasPrefix(o.ContractNo, "HT-HZ01-202611-") || o.Status != order.StatusDraft || o.TotalFen != int64(q.Computed.Total) || o.VehiclePriceFen != int64(q.Computed.VehiclePrice) {
		t.Fatalf("new order: %+v (quote total %d)", o, q.Computed.Total)
	}
	if o.TotalCapital == "" || o.BalanceFen != o.TotalFen {
		t.Fatalf("capital %q balance %d", o.TotalCapital, o.BalanceFen)
	}
	// The quote is taken: a second order from it is refused.
	apptest.ExpectErr(t, c.Do("POST", "/orders", map[string]any{"quoteId": q.ID}), http.StatusConflict, "quote.already_ordered")

	// Before the contract is approved nothing moves forward.
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/vehicle", o.ID), map[string]any{"vehicleId": cars[0].ID}), http.StatusConflict, "order.not_signed")
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/deliver", o.ID), map[string]any{}), http.StatusConflict, "order.not_signed")

	// A deposit before signing.
	o = post(t, c, o.ID, "payments", map[string]any{"kind": "deposit", "method": "wechat", "amountFen": 500_000, "reference": "WX123"}, http.StatusOK)
	if o.PaidFen != 500_000 || o.BalanceFen != o.ReceivableFen-500_000 || len(o.Payments) != 1 || o.Payments[0].Status != "recorded" {
		t.Fatalf("after deposit: paid %d balance %d payments %+v", o.PaidFen, o.BalanceFen, o.Payments)
	}
	// Stale page: 409.
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/submit", o.ID), map[string]any{"version": o.Version - 1}), http.StatusConflict, "conflict.stale")
	o = sign(t, env, c, o.ID)
	var stage string
	env.App.DB.R.QueryRow(`SELECT stage FROM customer WHERE id = ?`, cust).Scan(&stage)
	if stage != "ordered" {
		t.Fatalf("customer stage after signing: %s", stage)
	}
	// Out of order: no PDI before a car, no delivery before the PDI.
	apptest.ExpectErr(t, c.Do("PUT", fmt.Sprintf("/orders/%d/pdi", o.ID), map[string]any{"complete": true}), http.StatusConflict, "order.no_vehicle")
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/schedule", o.ID), map[string]any{"deliveryAt": apptest.Start.Add(48 * time.Hour).UnixMilli()}), http.StatusConflict, "order.pdi_not_done")

	o = post(t, c, o.ID, "vehicle", map[string]any{"vehicleId": cars[0].ID, "version": o.Version}, http.StatusOK)
	if o.Status != order.StatusVINAllocated || o.VIN != cars[0].VIN || len(o.PDI) != 8 {
		t.Fatalf("after allocation: %s %s pdi %d", o.Status, o.VIN, len(o.PDI))
	}
	if s := vehicleStatus(t, env, cars[0].ID); s != "sold" {
		t.Fatalf("vehicle status %s", s)
	}
	// PDI: an issue must carry a note, and blocks completion.
	body := pdiAllOK(o)
	body["items"].([]map[string]any)[2]["state"] = "issue"
	apptest.ExpectField(t, c.Do("PUT", fmt.Sprintf("/orders/%d/pdi", o.ID), body), "items.2.note", "order.pdi_issue_note")
	body["items"].([]map[string]any)[2]["note"] = "座椅污渍"
	apptest.ExpectField(t, c.Do("PUT", fmt.Sprintf("/orders/%d/pdi", o.ID), body), "items.2.state", "order.pdi_issue_open")
	o = post(t, c, o.ID, "pdi", pdiAllOK(o), http.StatusOK)
	if o.Status != order.StatusPDIDone || o.PDIAt == nil {
		t.Fatalf("after PDI: %s", o.Status)
	}
	at := apptest.Start.Add(48 * time.Hour).UnixMilli()
	o = post(t, c, o.ID, "schedule", map[string]any{"deliveryAt": at, "place": "交车区 2 号"}, http.StatusOK)
	if o.Status != order.StatusDeliveryScheduled || len(o.DeliveryChecklist) != 8 {
		t.Fatalf("after schedule: %s checklist %d", o.Status, len(o.DeliveryChecklist))
	}
	var tasks int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM task WHERE entity = 'order' AND entity_id = ? AND kind = 'delivery' AND status = 'open' AND due_at = ?`, o.ID, at).Scan(&tasks)
	if tasks != 1 {
		t.Fatalf("delivery tasks: %d", tasks)
	}
	// The checklist and the balance block the handover.
	r := c.Do("POST", fmt.Sprintf("/orders/%d/deliver", o.ID), map[string]any{})
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "order.checklist_open") {
		t.Fatalf("deliver with open checklist: %s", r)
	}
	o = post(t, c, o.ID, "checklist", checklistAll(o), http.StatusOK)
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/deliver", o.ID), map[string]any{}), http.StatusConflict, "order.balance_due")
	// Paying more than the balance is refused; the exact balance is fine.
	apptest.ExpectField(t, c.Do("POST", fmt.Sprintf("/orders/%d/payments", o.ID), map[string]any{"kind": "payment", "method": "transfer", "amountFen": o.BalanceFen + 1}), "amountFen", "order.overpaid")
	o = post(t, c, o.ID, "payments", map[string]any{"kind": "payment", "method": "transfer", "amountFen": o.BalanceFen}, http.StatusOK)
	if o.BalanceFen != 0 {
		t.Fatalf("balance %d", o.BalanceFen)
	}
	o = post(t, c, o.ID, "deliver", map[string]any{"version": o.Version}, http.StatusOK)
	if o.Status != order.StatusDelivered || o.DeliveredAt == nil {
		t.Fatalf("after delivery: %s", o.Status)
	}
	if s := vehicleStatus(t, env, cars[0].ID); s != "delivered" {
		t.Fatalf("vehicle after delivery: %s", s)
	}
	env.App.DB.R.QueryRow(`SELECT stage FROM customer WHERE id = ?`, cust).Scan(&stage)
	if stage != "delivered" {
		t.Fatalf("customer stage after delivery: %s", stage)
	}
	// The callback ladder of the default settings: consultant D+1 and D+3, the
	// sales manager D+7, the GM D+30.
	if len(o.Callbacks) != 4 {
		t.Fatalf("callbacks: %+v", o.Callbacks)
	}
	consultant, manager, gm := env.UserID("sales"), env.UserID("sales_manager"), env.UserID("gm")
	want := []struct {
		days int64
		who  int64
	}{{1, consultant}, {3, consultant}, {7, manager}, {30, gm}}
	for i, w := range want {
		cb := o.Callbacks[i]
		if cb.AssigneeID != w.who || cb.DueAt != *o.DeliveredAt+w.days*24*3600*1000 || cb.Status != "open" {
			t.Fatalf("callback %d: %+v want %+v", i, cb, w)
		}
	}
	// Closing waits for the callbacks.
	apptest.ExpectErr(t, env.As("sales_manager").Do("POST", fmt.Sprintf("/orders/%d/close", o.ID), map[string]any{}), http.StatusConflict, "order.callbacks_open")
	for _, cb := range o.Callbacks {
		who := map[int64]string{consultant: "sales", manager: "sales_manager", gm: "gm"}[cb.AssigneeID]
		env.As(who).Do("POST", fmt.Sprintf("/tasks/%d/done", cb.TaskID), map[string]any{"note": "满意"}).Expect(t, http.StatusOK)
	}
	n, err := env.App.Orders.CloseDone(t.Context())
	if err != nil || n < 1 {
		t.Fatalf("auto close: %d %v", n, err)
	}
	if o = get(t, c, o.ID); o.Status != order.StatusClosed {
		t.Fatalf("after callbacks: %s", o.Status)
	}
	// The timeline tells the story.
	var kinds string
	env.App.DB.R.QueryRow(`SELECT group_concat(kind, ',') FROM (SELECT kind FROM timeline_event WHERE customer_id = ? AND kind LIKE 'order.%' ORDER BY id)`, cust).Scan(&kinds)
	for _, k := range []string{"order.created", "order.payment", "order.signed", "order.vin_allocated", "order.pdi_done", "order.delivery_scheduled", "order.delivered", "order.closed"} {
		if !strings.Contains(kinds, k) {
			t.Fatalf("timeline %s lacks %s", kinds, k)
		}
	}
	if env.AuditCount("status", "sales_order") < 6 {
		t.Fatalf("audit rows: %d", env.AuditCount("status", "sales_order"))
	}
}

func TestOrder_TransitionsRefusedOutOfOrder(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	cust := newCustomer(t, c)
	q := acceptedQuote(t, c, cust, cars[0], nil)
	o := createOrder(t, c, q.ID)
	for _, tc := range []struct {
		method, action string
		body           any
		code           string
	}{
		{"POST", "vehicle", map[string]any{"vehicleId": cars[0].ID}, "order.not_signed"},
		{"PUT", "pdi", map[string]any{"complete": true}, "order.no_vehicle"},
		{"POST", "schedule", map[string]any{"deliveryAt": apptest.Start.Add(48 * time.Hour).UnixMilli()}, "order.pdi_not_done"},
		{"PUT", "checklist", map[string]any{}, "order.wrong_status"},
		{"POST", "deliver", map[string]any{}, "order.not_signed"},
		{"POST", "close", map[string]any{}, "order.wrong_status"},
	} {
		apptest.ExpectErr(t, c.Do(tc.method, fmt.Sprintf("/orders/%d/%s", o.ID, tc.action), tc.body), http.StatusConflict, tc.code)
	}
	o = post(t, c, o.ID, "submit", map[string]any{}, http.StatusOK)
	// In approval: a second submit and a cancel are refused.
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/submit", o.ID), map[string]any{}), http.StatusConflict, "order.wrong_status")
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/cancel", o.ID), map[string]any{"reason": "price"}), http.StatusConflict, "order.approval_pending")
	// Rejected: back to draft, nothing signed.
	env.As("sales_manager").Do("POST", fmt.Sprintf("/approvals/%d/reject", *o.ApprovalID), map[string]any{"comment": "价格再议"}).Expect(t, http.StatusOK)
	if o = get(t, c, o.ID); o.Status != order.StatusDraft || o.SignedAt != nil {
		t.Fatalf("after rejection: %s", o.Status)
	}
	if s := vehicleStatus(t, env, cars[0].ID); s != "in_stock" {
		t.Fatalf("vehicle: %s", s)
	}
}

func TestOrder_CancelRestoresStockQuoteAndTasks(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 2)
	o := signedOrder(t, env, c, cars[0])
	o = post(t, c, o.ID, "payments", map[string]any{"kind": "deposit", "method": "cash", "amountFen": 2_000_000}, http.StatusOK)
	o = post(t, c, o.ID, "vehicle", map[string]any{"vehicleId": cars[0].ID}, http.StatusOK)
	// Change of VIN: the first car goes back to stock, the second is sold, in one go.
	o = post(t, c, o.ID, "vehicle", map[string]any{"vehicleId": cars[1].ID}, http.StatusOK)
	if vehicleStatus(t, env, cars[0].ID) != "in_stock" || vehicleStatus(t, env, cars[1].ID) != "sold" || o.VIN != cars[1].VIN {
		t.Fatalf("after VIN change: %s %s %s", vehicleStatus(t, env, cars[0].ID), vehicleStatus(t, env, cars[1].ID), o.VIN)
	}
	o = post(t, c, o.ID, "pdi", pdiAllOK(o), http.StatusOK)
	o = post(t, c, o.ID, "schedule", map[string]any{"deliveryAt": apptest.Start.Add(72 * time.Hour).UnixMilli()}, http.StatusOK)

	// After signing the consultant may not cancel; the manager may, with a reason from the list.
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/cancel", o.ID), map[string]any{"reason": "price"}), http.StatusForbidden, "order.cancel_needs_manager")
	m := env.As("sales_manager")
	apptest.ExpectField(t, m.Do("POST", fmt.Sprintf("/orders/%d/cancel", o.ID), map[string]any{}), "reason", "required")
	apptest.ExpectField(t, m.Do("POST", fmt.Sprintf("/orders/%d/cancel", o.ID), map[string]any{"reason": "no_such"}), "reason", "order.cancel_reason")
	o = post(t, m, o.ID, "cancel", map[string]any{"reason": "finance_refused", "note": "贷款未批"}, http.StatusOK)
	if o.Status != order.StatusCancelled || o.RefundDueFen != 2_000_000 || o.BalanceFen != 0 {
		t.Fatalf("after cancel: %s refund due %d balance %d", o.Status, o.RefundDueFen, o.BalanceFen)
	}
	if s := vehicleStatus(t, env, cars[1].ID); s != "in_stock" {
		t.Fatalf("vehicle after cancel: %s", s)
	}
	var qs string
	env.App.DB.R.QueryRow(`SELECT status FROM quote WHERE id = ?`, o.QuoteID).Scan(&qs)
	if qs != "accepted" {
		t.Fatalf("quote after cancel: %s", qs)
	}
	var open int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM task WHERE entity = 'order' AND entity_id = ? AND status = 'open'`, o.ID).Scan(&open)
	if open != 0 {
		t.Fatalf("open tasks after cancel: %d", open)
	}
	// The broken contract takes the customer back from 订单 to 意向.
	var stage string
	env.App.DB.R.QueryRow(`SELECT stage FROM customer WHERE id = ?`, o.CustomerID).Scan(&stage)
	if stage != "prospect" {
		t.Fatalf("customer lifecycle after the only contract was cancelled: %s", stage)
	}
	// Nothing more happens to a cancelled order but the refund, by finance, at most what was paid.
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/payments", o.ID), map[string]any{"kind": "payment", "method": "cash", "amountFen": 100}), http.StatusConflict, "order.wrong_status")
	fin := env.As("finance")
	apptest.ExpectField(t, fin.Do("POST", fmt.Sprintf("/orders/%d/refunds", o.ID), map[string]any{"method": "cash", "amountFen": 2_000_000}), "reason", "order.refund_reason")
	apptest.ExpectField(t, fin.Do("POST", fmt.Sprintf("/orders/%d/refunds", o.ID), map[string]any{"method": "cash", "amountFen": 2_000_001, "reason": "退订"}), "amountFen", "order.refund_exceeds")
	o = post(t, fin, o.ID, "refunds", map[string]any{"method": "transfer", "amountFen": 2_000_000, "reason": "贷款未批，退还定金"}, http.StatusOK)
	if o.PaidFen != 0 || o.RefundDueFen != 0 || o.Payments[len(o.Payments)-1].AmountFen != -2_000_000 {
		t.Fatalf("after refund: paid %d due %d", o.PaidFen, o.RefundDueFen)
	}
	// The quote makes a new order, with a new number (numbers are never reused).
	o2 := createOrder(t, c, o.QuoteID)
	if o2.ContractNo == o.ContractNo {
		t.Fatalf("contract number reused: %s", o2.ContractNo)
	}
	// The sequence: the next number after the cancelled one.
	if !strings.HasSuffix(o2.ContractNo, "-0002") || !strings.HasSuffix(o.ContractNo, "-0001") {
		t.Fatalf("numbers %s then %s", o.ContractNo, o2.ContractNo)
	}
}

func TestConcurrent_ContractNumbersUnique(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	const n = 12
	quotes := make([]int64, n)
	for i := range quotes {
		quotes[i] = acceptedQuote(t, c, newCustomer(t, c), cars[0], nil).ID
	}
	var wg sync.WaitGroup
	nos := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var o order.Order
			r := c.Do("POST", "/orders", map[string]any{"quoteId": quotes[i]})
			if r.Status != http.StatusCreated {
				t.Errorf("create %d: %s", i, r)
				return
			}
			r.JSON(t, &o)
			nos[i] = o.ContractNo
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, no := range nos {
		if seen[no] {
			t.Fatalf("duplicate contract number %s in %v", no, nos)
		}
		seen[no] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[fmt.Sprintf("HT-HZ01-202611-%04d", i)] {
			t.Fatalf("numbers %v lack %d", nos, i)
		}
	}
}

func TestConcurrent_VINAllocationOneWinner(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	a := signedOrder(t, env, c, cars[0])
	b := signedOrder(t, env, c, cars[0])
	const n = 16
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := a.ID
			if i%2 == 1 {
				id = b.ID
			}
			r := c.Do("POST", fmt.Sprintf("/orders/%d/vehicle", id), map[string]any{"vehicleId": cars[0].ID})
			codes[i] = r.Status
			if r.Status != http.StatusOK && r.Status != http.StatusConflict && r.Status != http.StatusBadRequest {
				t.Errorf("allocate: %s", r)
			}
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, code := range codes {
		if code == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d allocations succeeded (%v), want 1", ok, codes)
	}
	var holders int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM sales_order WHERE vehicle_id = ? AND status <> 'cancelled'`, cars[0].ID).Scan(&holders)
	if holders != 1 || vehicleStatus(t, env, cars[0].ID) != "sold" {
		t.Fatalf("holders %d, vehicle %s", holders, vehicleStatus(t, env, cars[0].ID))
	}
}

func TestOrder_PaymentsBalanceAndFinance(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	cust := newCustomer(t, c)
	o := createOrder(t, c, acceptedQuote(t, c, cust, cars[0], nil).ID)
	apptest.ExpectField(t, c.Do("POST", fmt.Sprintf("/orders/%d/payments", o.ID), map[string]any{"kind": "deposit", "method": "bitcoin", "amountFen": 100}), "method", "required")
	apptest.ExpectField(t, c.Do("POST", fmt.Sprintf("/orders/%d/payments", o.ID), map[string]any{"kind": "deposit", "method": "cash", "amountFen": -100}), "amountFen", "order.amount_positive")
	o = post(t, c, o.ID, "payments", map[string]any{"kind": "deposit", "method": "card", "amountFen": 1_000_000}, http.StatusOK)
	o = post(t, c, o.ID, "payments", map[string]any{"kind": "payment", "method": "alipay", "amountFen": 300_000}, http.StatusOK)
	if o.PaidFen != 1_300_000 || o.BalanceFen != o.ReceivableFen-1_300_000 {
		t.Fatalf("paid %d balance %d", o.PaidFen, o.BalanceFen)
	}
	// The consultant may not confirm or refund; finance may.
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/payments/%d/confirm", o.ID, o.Payments[0].ID), map[string]any{}), http.StatusForbidden, "forbidden")
	fin := env.As("finance")
	var got order.Order
	fin.Do("POST", fmt.Sprintf("/orders/%d/payments/%d/confirm", o.ID, o.Payments[0].ID), map[string]any{}).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Payments[0].Status != "confirmed" || got.Payments[0].ConfirmedByName == "" {
		t.Fatalf("confirm: %+v", got.Payments[0])
	}
	apptest.ExpectErr(t, fin.Do("POST", fmt.Sprintf("/orders/%d/payments/%d/confirm", o.ID, o.Payments[0].ID), map[string]any{}), http.StatusConflict, "order.payment_not_open")
	// Voiding the second entry takes it out of the paid sum.
	fin.Do("POST", fmt.Sprintf("/orders/%d/payments/%d/void", o.ID, o.Payments[1].ID), map[string]any{"note": "重复录入"}).Expect(t, http.StatusOK).JSON(t, &got)
	if got.PaidFen != 1_000_000 || got.Payments[1].Status != "void" {
		t.Fatalf("after void: %d %s", got.PaidFen, got.Payments[1].Status)
	}
	// Balance-due filter of the list.
	var list struct{ Items []order.Order }
	c.Do("GET", "/orders?balanceDue=1&customerId="+fmt.Sprint(cust), nil).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != o.ID {
		t.Fatalf("balance-due list: %+v", list.Items)
	}
	// Deposit gate.
	for _, g := range env.App.Orders.Gates() {
		ok, err := g.Check(t.Context(), env.App.DB.R, cust)
		if err != nil || ok != (g.Key == "deposit_paid") {
			t.Fatalf("gate %s: %v %v", g.Key, ok, err)
		}
	}
}

func TestOrder_ProfitHandComputedAndHidden(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	cust := newCustomer(t, c)
	o := createOrder(t, c, acceptedQuote(t, c, cust, cars[0], map[string]any{"serviceFee": 200_000}).ID)
	o = sign(t, env, c, o.ID)
	o = post(t, c, o.ID, "vehicle", map[string]any{"vehicleId": cars[0].ID}, http.StatusOK)
	// The consultant sees no cost.
	if !o.CostHidden || o.AccessoriesCostFen != nil || o.FinanceCommissionFen != nil || o.RebateFen != nil {
		t.Fatalf("cost visible to the consultant: %+v", o)
	}
	r := c.Do("GET", fmt.Sprintf("/orders/%d", o.ID), nil)
	for _, k := range []string{"accessoriesCostFen", "financeCommissionFen", "rebateFen", "vehicleCostFen"} {
		if strings.Contains(string(r.Body), k) {
			t.Fatalf("order JSON for the consultant has %s", k)
		}
	}
	apptest.ExpectErr(t, c.Do("GET", fmt.Sprintf("/orders/%d/profit", o.ID), nil), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, c.Do("GET", "/orders/profit", nil), http.StatusForbidden, "forbidden")

	// Finance enters the commissions and the rebate actually agreed.
	fin := env.As("finance")
	post(t, fin, o.ID, "profit-inputs", map[string]any{"financeCommissionFen": 150_000, "insuranceCommissionFen": 80_000, "rebateFen": 300_000}, http.StatusOK)
	var p order.Profit
	env.As("gm").Do("GET", fmt.Sprintf("/orders/%d/profit", o.ID), nil).Expect(t, http.StatusOK).JSON(t, &p)
	// By hand: margin = price − cost; + rebate 3,000 + accessories 0 + service fee 2,000
	// + finance 1,500 + insurance 800; the consultant's first unit of the month earns
	// ¥300 plus 5 % of the gross before commission (half up).
	margin := o.VehiclePriceFen - cars[0].Cost
	before := margin + 300_000 + 0 + 200_000 + 150_000 + 80_000
	commission := int64(30_000) + (before*500+5000)/10000
	if p.VehicleCostFen != cars[0].Cost || p.VehicleMarginFen != margin || p.GrossBeforeFen != before || p.UnitRank != 1 || p.TierFen != 30_000 ||
		p.CommissionFen != commission || p.GrossProfitFen != before-commission || p.RebateExpected {
		t.Fatalf("profit %+v, want before %d commission %d", p, before, commission)
	}
	// Without an entered rebate the expected 2 % of the vehicle price counts.
	post(t, fin, o.ID, "profit-inputs", map[string]any{"financeCommissionFen": 150_000, "insuranceCommissionFen": 80_000, "rebateFen": nil}, http.StatusOK)
	env.As("gm").Do("GET", fmt.Sprintf("/orders/%d/profit", o.ID), nil).Expect(t, http.StatusOK).JSON(t, &p)
	if want := (o.VehiclePriceFen*200 + 5000) / 10000; p.RebateFen != want || !p.RebateExpected {
		t.Fatalf("expected rebate %d, got %d", want, p.RebateFen)
	}
}

func TestOrder_CommissionTiersByMonthlyRank(t *testing.T) {
	t.Parallel()
	tiers := order.DefaultSettings()
	cases := []struct {
		rank int
		want int64
	}{{1, 30_000}, {5, 30_000}, {6, 50_000}, {10, 50_000}, {11, 80_000}, {40, 80_000}}
	for _, tc := range cases {
		if got := order.TierFor(tiers.CommissionTiers, tc.rank); got != tc.want {
			t.Errorf("rank %d: %d, want %d", tc.rank, got, tc.want)
		}
	}
}

func TestOrder_ScopeAndSettings(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	cust := newCustomer(t, c)
	o := createOrder(t, c, acceptedQuote(t, c, cust, cars[0], nil).ID)
	// Another consultant of the store does not see the order; the manager does.
	other := env.As("sales_HZ012")
	apptest.ExpectErr(t, other.Do("GET", fmt.Sprintf("/orders/%d", o.ID), nil), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, other.Do("POST", fmt.Sprintf("/orders/%d/payments", o.ID), map[string]any{"kind": "deposit", "method": "cash", "amountFen": 100}), http.StatusNotFound, "not_found")
	var list struct{ Items []order.Order }
	other.Do("GET", "/orders?limit=200", nil).Expect(t, http.StatusOK).JSON(t, &list)
	for _, it := range list.Items {
		if it.ID == o.ID {
			t.Fatal("another consultant lists the order")
		}
	}
	env.As("sales_manager").Do("GET", fmt.Sprintf("/orders/%d", o.ID), nil).Expect(t, http.StatusOK)
	// The global search finds the order by its contract number for its consultant, not for the colleague.
	found := func(cl *apptest.Client) bool {
		var res findex.Result
		cl.Do("GET", "/search?q="+url.QueryEscape(o.ContractNo), nil).Expect(t, http.StatusOK).JSON(t, &res)
		for _, h := range res.Items {
			if h.Kind == "order" && h.EntityID == o.ID {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); !found(c); {
		if time.Now().After(deadline) {
			t.Fatal("the search does not find the order by its contract number")
		}
		time.Sleep(20 * time.Millisecond) // the index follows the outbox a moment after the commit
	}
	if found(other) {
		t.Fatal("another consultant finds the order in the search")
	}
	// Another store's GM: not found.
	apptest.ExpectErr(t, env.As("gm_NB011").Do("GET", fmt.Sprintf("/orders/%d", o.ID), nil), http.StatusNotFound, "not_found")

	// Settings: the manager changes the ladder and the format; the commission
	// rules stay hidden and unchanged without cost.read.
	m := env.As("sales_manager")
	var st order.Settings
	m.Do("GET", "/orders/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	if !st.CostHidden || len(st.CommissionTiers) != 0 {
		t.Fatalf("manager sees commission rules: %+v", st)
	}
	st.NumberFormat = "HZ{yyyy}-{seq:5}"
	st.Callbacks = []order.CallbackRule{{OffsetDays: 2, Assignee: "consultant", Title: "电话回访"}, {OffsetDays: 14, Assignee: "role:finance"}}
	st.CommissionBP = 9999
	m.Do("PUT", "/orders/settings", st).Expect(t, http.StatusOK)
	bad := st
	bad.Version = st.Version + 1
	bad.NumberFormat = "HT-{store}"
	apptest.ExpectField(t, m.Do("PUT", "/orders/settings", bad), "numberFormat", "order.number_format")
	var full order.Settings
	env.As("gm").Do("GET", "/orders/settings", nil).Expect(t, http.StatusOK).JSON(t, &full)
	if full.CommissionBP != 500 || len(full.CommissionTiers) != 3 || full.NumberFormat != "HZ{yyyy}-{seq:5}" || len(full.Callbacks) != 2 {
		t.Fatalf("settings after the manager's save: %+v", full)
	}
	o2 := createOrder(t, c, acceptedQuote(t, c, newCustomer(t, c), cars[0], nil).ID)
	if o2.ContractNo != "HZ2026-00001" {
		t.Fatalf("number with the new format: %s", o2.ContractNo)
	}
	apptest.ExpectErr(t, c.Do("PUT", "/orders/settings", full), http.StatusForbidden, "forbidden")
}

// deliverable takes a signed order through allocation, PDI and the appointment
// with the balance paid and the checklist ticked.
func deliverable(t *testing.T, c *apptest.Client, o order.Order, cr car) order.Order {
	t.Helper()
	o = post(t, c, o.ID, "vehicle", map[string]any{"vehicleId": cr.ID}, http.StatusOK)
	o = post(t, c, o.ID, "pdi", pdiAllOK(o), http.StatusOK)
	o = post(t, c, o.ID, "schedule", map[string]any{"deliveryAt": apptest.Start.Add(24 * time.Hour).UnixMilli()}, http.StatusOK)
	o = post(t, c, o.ID, "checklist", checklistAll(o), http.StatusOK)
	return post(t, c, o.ID, "payments", map[string]any{"kind": "payment", "method": "loan", "amountFen": o.BalanceFen}, http.StatusOK)
}

func TestOrder_CallbackLadderFromSettings(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	gm := env.As("gm")
	var st order.Settings
	gm.Do("GET", "/orders/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	finance, colleague := env.UserID("finance"), env.UserID("sales_HZ012")
	st.Callbacks = []order.CallbackRule{
		{OffsetDays: 0, Assignee: "consultant", Title: "当天感谢短信"},
		{OffsetDays: 2, Assignee: "role:finance"},
		{OffsetDays: 10, Assignee: fmt.Sprintf("user:%d", colleague), Title: "抽查回访"},
		{OffsetDays: 5, Assignee: "role:no_such_role"},
	}
	gm.Do("PUT", "/orders/settings", st).Expect(t, http.StatusOK)
	o := deliverable(t, c, signedOrder(t, env, c, cars[0]), cars[0])
	o = post(t, c, o.ID, "deliver", map[string]any{}, http.StatusOK)
	at := *o.DeliveredAt
	day := int64(24 * 3600 * 1000)
	want := []struct {
		due   int64
		who   int64
		title string
	}{{at, env.UserID("sales"), "当天感谢短信"}, {at + 2*day, finance, "交车回访 D+2"}, {at + 5*day, env.UserID("sales"), "交车回访 D+5"}, {at + 10*day, colleague, "抽查回访"}}
	if len(o.Callbacks) != len(want) {
		t.Fatalf("callbacks %+v", o.Callbacks)
	}
	for i, w := range want { // listed by due time
		cb := o.Callbacks[i]
		if cb.DueAt != w.due || cb.AssigneeID != w.who || !strings.HasPrefix(cb.Title, w.title) {
			t.Fatalf("callback %d: %+v, want %+v", i, cb, w)
		}
	}
	// The tasks carry the customer and the order, and the delivery task is done.
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM task WHERE entity = 'order' AND entity_id = ? AND kind = 'callback' AND customer_id = ? AND status = 'open'`, o.ID, o.CustomerID).Scan(&n)
	var delivery string
	env.App.DB.R.QueryRow(`SELECT status FROM task WHERE entity = 'order' AND entity_id = ? AND kind = 'delivery'`, o.ID).Scan(&delivery)
	if n != 4 || delivery != "done" {
		t.Fatalf("open callbacks %d, delivery task %s", n, delivery)
	}
	// A delivered order cannot be cancelled or changed back.
	apptest.ExpectErr(t, env.As("sales_manager").Do("POST", fmt.Sprintf("/orders/%d/cancel", o.ID), map[string]any{"reason": "price"}), http.StatusConflict, "order.wrong_status")
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/orders/%d/vehicle", o.ID), map[string]any{"vehicleId": cars[0].ID}), http.StatusConflict, "order.wrong_status")
}

func TestOrder_BalanceReminderOnceBeforeDelivery(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	cust := newCustomer(t, c)
	q := acceptedQuote(t, c, cust, cars[0], nil)
	var o order.Order
	planned := apptest.Start.Add(5 * 24 * time.Hour).UnixMilli()
	c.Do("POST", "/orders", map[string]any{"quoteId": q.ID, "plannedDeliveryAt": planned}).Expect(t, http.StatusCreated).JSON(t, &o)
	count := func() int {
		var n int
		env.App.DB.R.QueryRow(`SELECT count(*) FROM notification WHERE kind = 'order.balance_due' AND entity_id = ?`, o.ID).Scan(&n)
		return n
	}
	// Five days ahead: outside the default three days.
	if n, err := env.App.Orders.RemindBalances(t.Context()); err != nil || count() != 0 {
		t.Fatalf("early reminder: %d %v (%d)", n, err, count())
	}
	env.Clock.Advance(3 * 24 * time.Hour)
	for i := 0; i < 2; i++ {
		if _, err := env.App.Orders.RemindBalances(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if count() != 1 {
		t.Fatalf("reminders: %d, want exactly 1", count())
	}
	// Paid up: nothing more to remind (a new sign-in: three days passed).
	c = env.As("sales")
	post(t, c, o.ID, "payments", map[string]any{"kind": "payment", "method": "transfer", "amountFen": o.BalanceFen}, http.StatusOK)
	var due int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM sales_order WHERE id = ? AND paid < total - trade_in`, o.ID).Scan(&due)
	if due != 0 {
		t.Fatal("the order still shows a balance")
	}
}
