package e2e_test

// The order journey (S6): from a quote the customer accepted, the consultant
// makes the order on the customer page, takes the deposit, sends the contract
// to approval (the sales manager approves), allocates a car of the model from
// stock, completes the PDI, books and completes the delivery with the balance
// paid and the checklist ticked; the callback tasks then appear with their
// owners. Screenshots of the order page on a desktop and a phone, and of the
// A4 contract print.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
	"dealerdesk/app/sales"
	"dealerdesk/app/sales/order"
)

func TestJourney_OrderWithVINToDelivery(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL
	if _, err := demo.FillStock(context.Background(), env.App.DB, env.Clock.Now(), 36); err != nil {
		t.Fatal(err)
	}
	// A car in stock of the consultant's store: the model the customer wants.
	var carID, modelID int64
	var vin, color string
	if err := env.App.DB.R.QueryRow(`SELECT id, model_id, vin, color FROM vehicle WHERE store_id = 1 AND status = 'in_stock' AND color <> '' ORDER BY arrival_at, id LIMIT 1`).
		Scan(&carID, &modelID, &vin, &color); err != nil {
		t.Fatal(err)
	}
	// The customer and the quote they accepted (made through the quote API).
	const custName, custPhone = "上官思远", "13957100501"
	c := env.As("sales")
	var lead struct {
		CustomerID int64 `json:"customerId"`
	}
	c.Do("POST", "/leads", map[string]any{"phone": custPhone, "name": custName, "channel": "walk_in", "grade": "H", "assign": "me"}).Expect(t, http.StatusCreated).JSON(t, &lead)
	// A special price beyond the store's limits (¥25,000 off; the consultant may
	// give ¥20,000 and 8 % of MSRP): it goes to the sales manager, who approves it
	// (on a phone in TestJourney_QuoteOverLimitApprovedOnPhone); only then can the
	// customer's acceptance make it an order.
	var q sales.QuoteDoc
	c.Do("POST", "/quotes", map[string]any{"customerId": lead.CustomerID, "modelId": modelID, "color": color, "discount": 2_500_000}).Expect(t, http.StatusCreated).JSON(t, &q)
	if !q.NeedsApproval {
		t.Fatalf("a ¥25,000 discount does not need approval: %+v", q.ApprovalReasons)
	}
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/quotes/%d/send", q.ID), map[string]any{"rev": q.Rev}), http.StatusConflict, "quote.needs_approval")
	c.Do("POST", fmt.Sprintf("/quotes/%d/submit", q.ID), map[string]any{"rev": q.Rev}).Expect(t, http.StatusOK).JSON(t, &q)
	if q.ApprovalID == nil {
		t.Fatalf("submitted quote has no approval: %+v", q)
	}
	env.As("sales_manager").Do("POST", fmt.Sprintf("/approvals/%d/approve", *q.ApprovalID), map[string]any{}).Expect(t, http.StatusOK)
	c.Do("GET", fmt.Sprintf("/quotes/%d", q.ID), nil).Expect(t, http.StatusOK).JSON(t, &q)
	if q.Status != "approved" {
		t.Fatalf("quote status after approval %s", q.Status)
	}
	for _, action := range []string{"send", "accept"} {
		c.Do("POST", fmt.Sprintf("/quotes/%d/%s", q.ID, action), map[string]any{"rev": q.Rev}).Expect(t, http.StatusOK).JSON(t, &q)
	}
	if q.Status != "accepted" {
		t.Fatalf("quote status %s", q.Status)
	}

	b := newBrowser(t)
	b.deadline = time.Now().Add(4 * time.Minute)
	s := b.newPage("consultant", desktop)
	s.storeClock(env.Clock.Now())
	signIn(s, base, "sales")

	// --- the order from the accepted quote, on the customer page ---
	s.open(base, fmt.Sprintf("/crm/customers/%d", lead.CustomerID))
	s.click(sel("tab-orders"))
	s.click(sel("customer-order-new"))
	s.waitVisible(sel("order-quote-" + fmt.Sprint(q.ID)))
	s.submit("order-create-save", "the order page opens", `/^\/sales\/orders\/\d+$/.test(location.pathname)`)
	s.waitText(sel("order-status"), "草稿")
	var id int64
	if _, err := fmt.Sscanf(eval[string](s, `location.pathname`), "/sales/orders/%d", &id); err != nil {
		t.Fatal(err)
	}
	o := getOrder(t, c, id)
	if !strings.HasPrefix(o.ContractNo, "HT-HZ01-") || o.TotalFen != int64(q.Computed.Total) {
		t.Fatalf("order %s total %d, quote total %d", o.ContractNo, o.TotalFen, q.Computed.Total)
	}
	s.waitText(sel("order-total"), sales.Fen(o.TotalFen).String())

	// --- the deposit ---
	s.click(sel("order-pay"))
	s.fill("order-pay-amount", "5000")
	s.submit("order-pay-save", "the deposit is recorded", fmt.Sprintf(`document.querySelector(%s)?.innerText.includes('¥5,000.00')`, js(sel("order-paid"))))
	waitToastsGone(s)

	// --- the contract to approval; the sales manager approves ---
	s.click(sel("order-submit"))
	s.waitText(sel("order-status"), "合同审批中")
	o = getOrder(t, c, id)
	env.As("sales_manager").Do("POST", fmt.Sprintf("/approvals/%d/approve", *o.ApprovalID), map[string]any{"comment": "同意"}).Expect(t, http.StatusOK)
	s.open(base, fmt.Sprintf("/sales/orders/%d", id))
	s.waitText(sel("order-status"), "已签约")

	// --- the car from stock ---
	s.click(sel("order-allocate"))
	s.click(sel("vin-pick-" + vin))
	s.click(sel("order-vin-save"))
	s.waitText(sel("order-vin-value"), vin)
	s.waitText(sel("order-status"), "已配车")
	waitToastsGone(s)

	// --- the PDI ---
	o = getOrder(t, c, id)
	for _, it := range o.PDI {
		centre(s, sel("pdi-ok-"+it.Key))
		s.click(sel("pdi-ok-" + it.Key))
	}
	centre(s, sel("order-pdi-complete"))
	s.click(sel("order-pdi-complete"))
	s.waitText(sel("order-status"), "PDI已完成")
	waitToastsGone(s)

	// --- the appointment, the balance, the checklist, the handover ---
	s.click(sel("order-schedule"))
	s.fill("order-schedule-place", "交车区 2 号")
	s.submit("order-schedule-save", "the delivery is booked", fmt.Sprintf(`document.querySelector(%s)?.innerText.includes('已约交车')`, js(sel("order-status"))))
	waitToastsGone(s)
	o = getOrder(t, c, id)
	s.click(sel("order-pay"))
	s.pick("order-pay-method", "转账")
	s.submit("order-pay-save", "the balance is paid", fmt.Sprintf(`document.querySelector(%s)?.innerText.includes('¥0.00')`, js(sel("order-balance"))))
	waitToastsGone(s)
	for _, it := range o.DeliveryChecklist {
		centre(s, sel("delivery-item-"+it.Key))
		s.click(sel("delivery-item-" + it.Key))
	}
	s.waitJS("every checklist item is ticked", fmt.Sprintf(`[...document.querySelectorAll('%s .el-checkbox')].every(el => el.classList.contains('is-checked'))`, sel("order-delivery")))
	for i := 0; i < 100; i++ {
		o = getOrder(t, c, id)
		done := true
		for _, it := range o.DeliveryChecklist {
			done = done && it.Done
		}
		if done {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling the server for the last tick's save
	}
	centre(s, sel("order-deliver"))
	s.click(sel("order-deliver"))
	s.click(".el-message-box__btns .el-button--primary")
	s.waitText(sel("order-status"), "已交车")
	s.waitVisible(sel("order-callbacks"))
	waitToastsGone(s)
	if n := eval[int](s, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(sel("order-callback")))); n != 4 {
		s.fail("%d callbacks shown, want 4", n)
	}
	cbText := s.textOf(sel("order-callbacks"))
	for _, want := range []string{"交车回访 D+1", "交车回访 D+30", "待回访"} {
		if !strings.Contains(cbText, want) {
			s.fail("the callbacks read %q, lacking %q", cbText, want)
		}
	}
	eval[bool](s, `(() => { window.scrollTo(0, 0); return true })()`)
	s.shot("order-delivered-desktop")
	centre(s, sel("order-callbacks"))
	s.shot("order-callbacks-desktop")

	o = getOrder(t, c, id)
	var vstatus string
	env.App.DB.R.QueryRow(`SELECT status FROM vehicle WHERE id = ?`, carID).Scan(&vstatus)
	if o.Status != order.StatusDelivered || o.VIN != vin || vstatus != "delivered" || len(o.Callbacks) != 4 {
		t.Fatalf("after delivery: %s %s vehicle %s callbacks %d", o.Status, o.VIN, vstatus, len(o.Callbacks))
	}
	// The callbacks are the consultant's tasks too.
	var tasks struct{ Items []struct{ Title string } }
	c.Do("GET", "/tasks?dueBefore="+fmt.Sprint(env.Clock.Now().Add(5*24*time.Hour).UnixMilli()), nil).Expect(t, http.StatusOK).JSON(t, &tasks)
	found := false
	for _, tk := range tasks.Items {
		found = found || strings.Contains(tk.Title, "交车回访 D+1")
	}
	if !found {
		t.Fatalf("the consultant's tasks lack the first callback: %+v", tasks.Items)
	}

	// --- the same page on a phone ---
	ph := b.newPage("consultant-phone", phone375)
	ph.storeClock(env.Clock.Now())
	signIn(ph, base, "sales")
	ph.open(base, fmt.Sprintf("/sales/orders/%d", id))
	ph.waitText(sel("order-status"), "已交车")
	ph.waitVisible(sel("order-callbacks"))
	if w := eval[int](ph, `document.documentElement.scrollWidth`); w > 375 {
		ph.fail("the order page is %d px wide on a 375-px phone", w)
	}
	ph.shot("order-phone")
	ph.open(base, "/sales/orders")
	ph.waitVisible(sel("order-row"))
	ph.shot("orders-phone")

	// --- the GM: the order settings with the commission rules, the month's profit ---
	g := b.newPage("gm", desktop)
	g.storeClock(env.Clock.Now())
	signIn(g, base, "gm")
	g.open(base, "/sales/order-settings")
	g.waitVisible(sel("order-settings-commission"))
	if n := eval[int](g, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(sel("order-settings-callback")))); n != 4 {
		g.fail("%d callback rows in the settings, want 4", n)
	}
	g.shot("order-settings")
	g.open(base, "/sales/orders")
	g.click(sel("orders-tab-profit"))
	g.waitText(sel("profit-report"), o.ContractNo)
	g.shot("orders-profit")

	// --- the contract print ---
	p := b.newPage("print", a4)
	p.storeClock(env.Clock.Now())
	signIn(p, base, "sales")
	p.open(base, fmt.Sprintf("/print/orders/%d", id))
	p.waitText(sel("order-print-no"), o.ContractNo)
	if got := p.textOf(sel("order-print-capital")); !strings.Contains(got, sales.CapitalYuan(sales.Fen(o.TotalFen))) {
		p.fail("the amount in words reads %q; want %s", got, sales.CapitalYuan(sales.Fen(o.TotalFen)))
	}
	text := p.textOf(sel("order-print"))
	for _, want := range []string{"汽车销售合同", custName, vin, sales.Fen(o.TotalFen).String(), "定金", "买方签字"} {
		if !strings.Contains(text, want) {
			p.fail("the print lacks %q", want)
		}
	}
	if p.present(`[data-test="app-header"]`) {
		p.fail("the print view shows the app's header")
	}
	p.shot("order-print-a4")
}

// centre scrolls an element to the middle of the window (one half off the
// bottom edge cannot be clicked at its centre).
func centre(p *page, css string) {
	p.t.Helper()
	p.waitVisible(css)
	eval[bool](p, fmt.Sprintf(`(() => { document.querySelector(%s).scrollIntoView({ block: 'center' }); return true })()`, js(css)))
}

func getOrder(t *testing.T, c *apptest.Client, id int64) order.Order {
	t.Helper()
	var o order.Order
	c.Do("GET", fmt.Sprintf("/orders/%d", id), nil).Expect(t, http.StatusOK).JSON(t, &o)
	return o
}
