package sales_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/sales"
	"dealerdesk/app/sales/tradein"
)

// camryID is the demo's 丰田 凯美瑞 2.0E 精英版 (MSRP 171,800.00 yuan, petrol).
func camryID(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var id int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM vehicle_model WHERE name = '2.0E 精英版'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newCustomer makes a customer owned by the consultant c.
func newCustomer(t *testing.T, c *apptest.Client, phone string) int64 {
	t.Helper()
	var res struct {
		CustomerID int64 `json:"customerId"`
	}
	c.Do("POST", "/leads", map[string]any{"phone": phone, "channel": "walk_in", "assign": "me", "name": "报价测试" + phone[7:]}).Expect(t, http.StatusCreated).JSON(t, &res)
	return res.CustomerID
}

func createQuote(t *testing.T, c *apptest.Client, body map[string]any) sales.QuoteDoc {
	t.Helper()
	var q sales.QuoteDoc
	c.Do("POST", "/quotes", body).Expect(t, http.StatusCreated).JSON(t, &q)
	return q
}

func act(t *testing.T, c *apptest.Client, q sales.QuoteDoc, action string, status int) sales.QuoteDoc {
	t.Helper()
	var out sales.QuoteDoc
	r := c.Do("POST", fmt.Sprintf("/quotes/%d/%s", q.ID, action), map[string]any{"rev": q.Rev})
	r.Expect(t, status)
	if status == http.StatusOK {
		r.JSON(t, &out)
	}
	return out
}

// storedMatchesCompute re-prices the stored inputs of a quote with sales.Compute
// and compares every stored total.
func storedMatchesCompute(t *testing.T, env *apptest.Env, id int64) sales.Quote {
	t.Helper()
	var d sales.QuoteDoc
	env.As("admin").Do("GET", fmt.Sprintf("/quotes/%d", id), nil).Expect(t, http.StatusOK).JSON(t, &d)
	in := sales.QuoteInput{MSRP: d.Computed.MSRP, Discount: sales.Fen(d.Discount), ColorSurcharge: d.Computed.VehiclePrice - d.Computed.MSRP + d.Computed.Discount,
		Insurance: sales.Fen(d.Insurance), RegistrationFee: sales.Fen(d.RegistrationFee), OtherFees: sales.Fen(d.ServiceFee), TaxRule: d.TaxRule,
		Finance: d.Finance, TradeIn: d.Computed.TradeIn, VehicleCost: d.Computed.VehicleCost}
	for _, a := range d.Accessories {
		c := int64(0)
		if a.Cost != nil {
			c = *a.Cost
		}
		in.Accessories = append(in.Accessories, sales.Accessory{Name: a.Name, Price: sales.Fen(a.Price), Cost: sales.Fen(c)})
	}
	want, err := sales.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	var total, cash, tax, monthly, vprice, loan, down, margin int64
	if err := env.App.DB.R.QueryRow(`SELECT total, cash_need, purchase_tax, monthly_payment, vehicle_price, amount_financed, down_payment, gross_margin_bp FROM quote WHERE id = ?`, id).
		Scan(&total, &cash, &tax, &monthly, &vprice, &loan, &down, &margin); err != nil {
		t.Fatal(err)
	}
	got := []int64{total, cash, tax, monthly, vprice, loan, down, margin}
	exp := []int64{int64(want.Total), int64(want.CashNeed), int64(want.PurchaseTax), int64(want.MonthlyPayment), int64(want.VehiclePrice),
		int64(want.AmountFinanced), int64(want.DownPayment), int64(want.GrossMarginBP)}
	for i := range got {
		if got[i] != exp[i] {
			t.Fatalf("stored figure %d = %d, Compute gives %d (stored %v, computed %+v)", i, got[i], exp[i], got, want)
		}
	}
	if d.Computed.Total != want.Total || d.TotalCapital != sales.CapitalYuan(want.Total) {
		t.Fatalf("API total %d %q, Compute %d", d.Computed.Total, d.TotalCapital, want.Total)
	}
	return want
}

// TestQuote_TotalsAreComputeInFen: a financed quote with accessories is stored
// with exactly sales.Compute's figures; the JSON holds integers only (no
// decimal point in any amount); defaults come from the store settings.
func TestQuote_TotalsAreComputeInFen(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	consultant := env.As("sales")
	cust := newCustomer(t, consultant, "13900001001")
	body := map[string]any{"customerId": cust, "modelId": camryID(t, env), "discount": 800_000,
		"accessories": []map[string]any{{"name": "贴膜", "price": 300_000, "cost": 80_000}, {"name": "脚垫", "price": 50_000}},
		"finance":     map[string]any{"downPaymentBp": 3000, "months": 36, "annualRateBp": 399}}
	r := consultant.Do("POST", "/quotes", body)
	r.Expect(t, http.StatusCreated)
	if regexp.MustCompile(`"[a-zA-Z]+":-?\d+\.\d`).Match(r.Body) {
		t.Fatalf("a float in the quote JSON: %s", r.Body)
	}
	var q sales.QuoteDoc
	r.JSON(t, &q)
	if !regexp.MustCompile(`^[A-Z0-9]+-Q-\d{8}-0001$`).MatchString(q.Number) || q.Version != 1 || q.Status != sales.StatusDraft || !q.Latest {
		t.Fatalf("quote %s v%d %s", q.Number, q.Version, q.Status)
	}
	if q.RegistrationFee != 50_000 || q.Insurance == 0 || q.Computed.MonthlyPayment == 0 || len(q.Schedule) != 36 {
		t.Fatalf("defaults/finance: reg %d ins %d monthly %d schedule %d", q.RegistrationFee, q.Insurance, q.Computed.MonthlyPayment, len(q.Schedule))
	}
	// The consultant has no cost.read: no cost anywhere.
	if bytes.Contains(r.Body, []byte(`"cost":8`)) || q.Computed.GrossProfit != 0 || q.FinanceCommission != nil || q.Accessories[0].Cost != nil {
		t.Fatalf("cost shown to a consultant: %s", r.Body)
	}
	want := storedMatchesCompute(t, env, q.ID)
	if want.PurchaseTax != sales.PurchaseTax(want.VehiclePrice, sales.TaxRuleICE()) {
		t.Fatalf("purchase tax %d", want.PurchaseTax)
	}
	// The stored accessory cost is the one entered? Only cost.read may enter one:
	// the consultant's 80,000 was not taken.
	var acc string
	env.App.DB.R.QueryRow(`SELECT accessories FROM quote WHERE id = ?`, q.ID).Scan(&acc)
	if bytes.Contains([]byte(acc), []byte("80000")) {
		t.Fatalf("a consultant set a cost: %s", acc)
	}
	// The GM (cost.read) sees the costs.
	var gm sales.QuoteDoc
	env.As("gm").Do("GET", fmt.Sprintf("/quotes/%d", q.ID), nil).Expect(t, http.StatusOK).JSON(t, &gm)
	if gm.FinanceCommission == nil {
		t.Fatalf("gm sees no commission")
	}
	// Preview gives the same figures as the saved quote.
	var p sales.Preview
	consultant.Do("POST", "/quotes/preview", body).Expect(t, http.StatusOK).JSON(t, &p)
	if p.Computed.Total != q.Computed.Total || p.TotalCapital != q.TotalCapital {
		t.Fatalf("preview %d vs saved %d", p.Computed.Total, q.Computed.Total)
	}
	// Field errors in the user's terms.
	apptest.ExpectField(t, consultant.Do("POST", "/quotes", map[string]any{"customerId": cust, "modelId": camryID(t, env), "discount": 17_180_000}), "discount", "quote.discount_exceeds_price")
	apptest.ExpectField(t, consultant.Do("POST", "/quotes", map[string]any{"customerId": cust, "modelId": 999999}), "modelId", "quote.model_unknown")
	apptest.ExpectField(t, consultant.Do("POST", "/quotes", map[string]any{"customerId": cust, "modelId": camryID(t, env), "color": "不存在的颜色"}), "color", "quote.color_unknown")
	apptest.ExpectField(t, consultant.Do("POST", "/quotes", map[string]any{"customerId": cust, "modelId": camryID(t, env), "finance": map[string]any{"months": 7, "annualRateBp": 399, "downPaymentBp": 3000}}), "finance.months", "quote.term_range")
	if env.AuditCount("create", "quote") != 1 {
		t.Fatalf("audit rows %d", env.AuditCount("create", "quote"))
	}
	var events int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM timeline_event WHERE customer_id = ? AND kind = 'quote.created'`, cust).Scan(&events)
	if events != 1 {
		t.Fatalf("timeline events %d", events)
	}
}

// TestConcurrent_QuoteNumbers: 20 quotes made at once get 20 different numbers
// with sequence 0001–0020.
func TestConcurrent_QuoteNumbers(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	consultant := env.As("sales")
	cust := newCustomer(t, consultant, "13900001002")
	model := camryID(t, env)
	const n = 20
	var wg sync.WaitGroup
	numbers := make(chan string, n)
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := consultant.Do("POST", "/quotes", map[string]any{"customerId": cust, "modelId": model, "discount": int64(i) * 10_000})
			if r.Status != http.StatusCreated {
				errs <- r.String()
				return
			}
			var q sales.QuoteDoc
			r.JSON(t, &q)
			numbers <- q.Number
		}()
	}
	wg.Wait()
	close(numbers)
	close(errs)
	for e := range errs {
		t.Fatalf("create: %s", e)
	}
	seen := map[string]bool{}
	for num := range numbers {
		if seen[num] {
			t.Fatalf("number %s given twice", num)
		}
		seen[num] = true
	}
	if len(seen) != n {
		t.Fatalf("%d numbers", len(seen))
	}
	var last int
	env.App.DB.R.QueryRow(`SELECT max(last) FROM quote_sequence`).Scan(&last)
	if last != n {
		t.Fatalf("sequence at %d", last)
	}
}

// TestQuote_VersionsAndStale: a draft is edited in place (rev checked, stale →
// 409); a sent quote edited becomes version 2, the old one stays readable and
// can no longer be accepted; only the latest is accepted.
func TestQuote_VersionsAndStale(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	cust := newCustomer(t, c, "13900001003")
	model := camryID(t, env)
	q := createQuote(t, c, map[string]any{"customerId": cust, "modelId": model, "discount": 500_000})
	edit := map[string]any{"modelId": model, "discount": 600_000, "rev": q.Rev}
	var q2 sales.QuoteDoc
	c.Do("PUT", fmt.Sprintf("/quotes/%d", q.ID), edit).Expect(t, http.StatusOK).JSON(t, &q2)
	if q2.ID != q.ID || q2.Version != 1 || q2.Discount != 600_000 || q2.Rev == q.Rev {
		t.Fatalf("draft edit: id %d v%d discount %d rev %d", q2.ID, q2.Version, q2.Discount, q2.Rev)
	}
	apptest.ExpectErr(t, c.Do("PUT", fmt.Sprintf("/quotes/%d", q.ID), edit), http.StatusConflict, "conflict.stale")
	storedMatchesCompute(t, env, q.ID)

	sent := act(t, c, q2, "send", http.StatusOK)
	if sent.Status != sales.StatusSent || sent.SentAt == nil {
		t.Fatalf("send: %s", sent.Status)
	}
	var v2 sales.QuoteDoc
	c.Do("PUT", fmt.Sprintf("/quotes/%d", q.ID), map[string]any{"modelId": model, "discount": 700_000, "rev": sent.Rev}).Expect(t, http.StatusOK).JSON(t, &v2)
	if v2.ID == q.ID || v2.Version != 2 || v2.Number != q.Number || v2.Status != sales.StatusDraft || !v2.Latest || len(v2.Versions) != 2 {
		t.Fatalf("new version: %+v", v2.Versions)
	}
	var old sales.QuoteDoc
	c.Do("GET", fmt.Sprintf("/quotes/%d", q.ID), nil).Expect(t, http.StatusOK).JSON(t, &old)
	if old.Latest || old.Status != sales.StatusSent || old.Discount != 600_000 {
		t.Fatalf("old version: latest %v %s %d", old.Latest, old.Status, old.Discount)
	}
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/quotes/%d/accept", q.ID), map[string]any{"rev": old.Rev}), http.StatusConflict, "quote.superseded")
	sent2 := act(t, c, v2, "send", http.StatusOK)
	acc := act(t, c, sent2, "accept", http.StatusOK)
	if acc.Status != sales.StatusAccepted {
		t.Fatalf("accept: %s", acc.Status)
	}
	storedMatchesCompute(t, env, v2.ID)
	// The list shows only the latest version by default.
	var list struct {
		Items []sales.QuoteSummary `json:"items"`
	}
	c.Do("GET", fmt.Sprintf("/quotes?customerId=%d", cust), nil).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != v2.ID {
		t.Fatalf("list: %+v", list.Items)
	}
	c.Do("GET", fmt.Sprintf("/quotes?customerId=%d&versions=all", cust), nil).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("all versions: %d", len(list.Items))
	}
}

// approvalOf returns the pending approval id of a quote.
func approvalOf(t *testing.T, env *apptest.Env, quoteID int64) int64 {
	t.Helper()
	var id int64
	if err := env.App.DB.R.QueryRow(`SELECT approval_id FROM quote WHERE id = ?`, quoteID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// take runs TakeQuoteTx as the actor and returns the apperr code ("" on success).
func take(t *testing.T, env *apptest.Env, username string, quoteID int64) (sales.QuoteForOrder, string) {
	t.Helper()
	a := actor(t, env, username)
	var out sales.QuoteForOrder
	var code string
	err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		out, err = env.App.Sales.TakeQuoteTx(context.Background(), tx, a, quoteID)
		return err
	})
	if err != nil {
		code = errCode(err)
	}
	return out, code
}

// TestQuote_ApprovalGating: a discount over the store's limit cannot be sent,
// accepted or ordered; submitting starts one approval; rejection returns it to
// draft; approval lets it be sent and accepted, and TakeQuoteTx then hands it to
// an order exactly once; its release makes it accepted again.
func TestQuote_ApprovalGating(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	mgr := env.As("sales_manager")
	cust := newCustomer(t, c, "13900001004")
	// 15,000 yuan off 171,800 is 8.7%: over the default 8%.
	q := createQuote(t, c, map[string]any{"customerId": cust, "modelId": camryID(t, env), "discount": 1_500_000})
	if !q.NeedsApproval || len(q.ApprovalReasons) != 1 || q.ApprovalReasons[0] != sales.ReasonDiscountPercent {
		t.Fatalf("needs approval %v %v", q.NeedsApproval, q.ApprovalReasons)
	}
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/quotes/%d/send", q.ID), map[string]any{"rev": q.Rev}), http.StatusConflict, "quote.needs_approval")
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/quotes/%d/accept", q.ID), map[string]any{"rev": q.Rev}), http.StatusConflict, "quote.needs_approval")
	if _, code := take(t, env, "sales", q.ID); code != "quote.not_accepted" {
		t.Fatalf("take draft: %q", code)
	}

	p := act(t, c, q, "submit", http.StatusOK)
	if p.Status != sales.StatusPendingApproval || p.ApprovalID == nil {
		t.Fatalf("submit: %s", p.Status)
	}
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/quotes/%d/submit", q.ID), map[string]any{"rev": p.Rev}), http.StatusConflict, "quote.approval_pending")
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/quotes/%d/send", q.ID), map[string]any{"rev": p.Rev}), http.StatusConflict, "quote.approval_pending")
	apptest.ExpectErr(t, c.Do("PUT", fmt.Sprintf("/quotes/%d", q.ID), map[string]any{"modelId": camryID(t, env), "rev": p.Rev}), http.StatusConflict, "quote.approval_pending")
	if _, code := take(t, env, "sales", q.ID); code != "quote.approval_pending" {
		t.Fatalf("take pending: %q", code)
	}
	// Rejected: back to draft, marked rejected.
	mgr.Do("POST", fmt.Sprintf("/approvals/%d/reject", approvalOf(t, env, q.ID)), map[string]any{"comment": "优惠太大"}).Expect(t, http.StatusOK)
	var rej sales.QuoteDoc
	c.Do("GET", fmt.Sprintf("/quotes/%d", q.ID), nil).Expect(t, http.StatusOK).JSON(t, &rej)
	if rej.Status != sales.StatusDraft || rej.ApprovalStatus != "rejected" {
		t.Fatalf("rejected: %s/%s", rej.Status, rej.ApprovalStatus)
	}
	if _, code := take(t, env, "sales", q.ID); code != "quote.approval_rejected" {
		t.Fatalf("take rejected: %q", code)
	}
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/quotes/%d/send", q.ID), map[string]any{"rev": rej.Rev}), http.StatusConflict, "quote.approval_rejected")
	// Submitted again and approved: it can be sent and accepted.
	p2 := act(t, c, rej, "submit", http.StatusOK)
	mgr.Do("POST", fmt.Sprintf("/approvals/%d/approve", approvalOf(t, env, q.ID)), map[string]any{}).Expect(t, http.StatusOK)
	var ok sales.QuoteDoc
	c.Do("GET", fmt.Sprintf("/quotes/%d", q.ID), nil).Expect(t, http.StatusOK).JSON(t, &ok)
	if ok.Status != sales.StatusApproved || ok.ApprovalStatus != "approved" || ok.Rev == p2.Rev {
		t.Fatalf("approved: %s/%s", ok.Status, ok.ApprovalStatus)
	}
	sent := act(t, c, ok, "send", http.StatusOK)
	if _, code := take(t, env, "sales", q.ID); code != "quote.not_accepted" {
		t.Fatalf("take sent: %q", code)
	}
	acc := act(t, c, sent, "accept", http.StatusOK)
	got, code := take(t, env, "sales", q.ID)
	if code != "" || got.QuoteID != q.ID || got.DiscountFen != 1_500_000 || got.TotalFen != int64(acc.Computed.Total) || got.Number != q.Number || got.MSRPFen != 17_180_000 {
		t.Fatalf("take accepted: %q %+v", code, got)
	}
	if _, code := take(t, env, "sales", q.ID); code != "quote.already_ordered" {
		t.Fatalf("take twice: %q", code)
	}
	if err := env.App.DB.WriteTx(context.Background(), func(tx *sql.Tx) error { return env.App.Sales.ReleaseQuoteTx(context.Background(), tx, q.ID) }); err != nil {
		t.Fatal(err)
	}
	var rel sales.QuoteDoc
	c.Do("GET", fmt.Sprintf("/quotes/%d", q.ID), nil).Expect(t, http.StatusOK).JSON(t, &rel)
	if rel.Status != sales.StatusAccepted {
		t.Fatalf("released: %s", rel.Status)
	}
	// Changing the approved money makes version 2, which needs approval again;
	// version 1 is superseded for orders.
	var v2 sales.QuoteDoc
	c.Do("PUT", fmt.Sprintf("/quotes/%d", q.ID), map[string]any{"modelId": camryID(t, env), "discount": 1_600_000, "rev": rel.Rev}).Expect(t, http.StatusOK).JSON(t, &v2)
	if v2.Version != 2 || v2.Status != sales.StatusDraft || !v2.NeedsApproval || v2.ApprovalStatus != "" {
		t.Fatalf("v2: %+v", v2)
	}
	if _, code := take(t, env, "sales", q.ID); code != "quote.superseded" {
		t.Fatalf("take superseded: %q", code)
	}
	var events int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM timeline_event WHERE customer_id = ? AND kind IN ('quote.approved', 'quote.rejected', 'quote.sent', 'quote.accepted', 'quote.revised')`, cust).Scan(&events)
	if events != 5 {
		t.Fatalf("timeline quote events %d", events)
	}
}

// TestQuote_ExpiryJob: a sent quote past its validity expires; an accepted one
// waits for its order.
func TestQuote_ExpiryJob(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	cust := newCustomer(t, c, "13900001005")
	model := camryID(t, env)
	a := createQuote(t, c, map[string]any{"customerId": cust, "modelId": model, "discount": 100_000})
	sentA := act(t, c, a, "send", http.StatusOK)
	b := createQuote(t, c, map[string]any{"customerId": cust, "modelId": model, "discount": 200_000})
	act(t, c, act(t, c, b, "send", http.StatusOK), "accept", http.StatusOK)
	if n, err := env.App.Sales.ExpireQuotes(context.Background()); err != nil || n != 0 {
		t.Fatalf("early expiry: %d %v", n, err)
	}
	env.Clock.Advance(9 * 24 * time.Hour)
	c = env.As("sales") // the session ran out with the clock
	if n, err := env.App.Sales.ExpireQuotes(context.Background()); err != nil || n != 1 {
		t.Fatalf("expiry: %d %v", n, err)
	}
	var ea, eb sales.QuoteDoc
	c.Do("GET", fmt.Sprintf("/quotes/%d", a.ID), nil).Expect(t, http.StatusOK).JSON(t, &ea)
	c.Do("GET", fmt.Sprintf("/quotes/%d", b.ID), nil).Expect(t, http.StatusOK).JSON(t, &eb)
	if ea.Status != sales.StatusExpired || eb.Status != sales.StatusAccepted {
		t.Fatalf("after expiry: %s %s", ea.Status, eb.Status)
	}
	apptest.ExpectErr(t, c.Do("POST", fmt.Sprintf("/quotes/%d/accept", a.ID), map[string]any{"rev": ea.Rev}), http.StatusConflict, "quote.not_sent")
	_ = sentA
	// An expired quote can be renewed as a new version.
	var v2 sales.QuoteDoc
	c.Do("PUT", fmt.Sprintf("/quotes/%d", a.ID), map[string]any{"modelId": model, "discount": 100_000, "rev": ea.Rev}).Expect(t, http.StatusOK).JSON(t, &v2)
	if v2.Version != 2 || v2.ValidUntil <= env.Clock.Now().UnixMilli() {
		t.Fatalf("renewed: v%d until %d", v2.Version, v2.ValidUntil)
	}
}

// TestQuote_Scope: another consultant neither sees nor changes the quote; a
// role without sales.write cannot make one; settings need customer.assign and
// hide package costs without cost.read.
func TestQuote_Scope(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	cust := newCustomer(t, c, "13900001006")
	q := createQuote(t, c, map[string]any{"customerId": cust, "modelId": camryID(t, env), "discount": 100_000})
	var other string
	if err := env.App.DB.R.QueryRow(`SELECT u.username FROM app_user u JOIN role r ON r.id = u.role_id WHERE r.code = 'sales' AND u.username <> 'sales' AND u.status = 'active' ORDER BY u.id LIMIT 1`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	o := env.As(other)
	apptest.ExpectErr(t, o.Do("GET", fmt.Sprintf("/quotes/%d", q.ID), nil), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, o.Do("POST", fmt.Sprintf("/quotes/%d/send", q.ID), map[string]any{"rev": q.Rev}), http.StatusNotFound, "not_found")
	var list struct {
		Items []sales.QuoteSummary `json:"items"`
	}
	o.Do("GET", fmt.Sprintf("/quotes?customerId=%d", cust), nil).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("other consultant lists %d", len(list.Items))
	}
	apptest.ExpectErr(t, env.As("finance").Do("POST", "/quotes", map[string]any{"customerId": cust, "modelId": camryID(t, env)}), http.StatusForbidden, "forbidden")
	apptest.ExpectErr(t, c.Do("PUT", "/quotes/settings", map[string]any{"validityDays": 7}), http.StatusForbidden, "forbidden")

	// Settings: the manager sets a package with a cost; the consultant sees it without.
	mgr := env.As("gm")
	var st sales.QuoteSettings
	mgr.Do("GET", "/quotes/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	st.Packages = []sales.PackageTemplate{{Name: "新车护理套餐", Price: 298_000, Cost: ptr(int64(90_000))}}
	mgr.Do("PUT", "/quotes/settings", st).Expect(t, http.StatusOK).JSON(t, &st)
	apptest.ExpectErr(t, mgr.Do("PUT", "/quotes/settings", map[string]any{"validityDays": 7, "nevTaxRule": "auto", "version": 0}), http.StatusConflict, "conflict.stale")
	var seen sales.QuoteSettings
	c.Do("GET", "/quotes/settings", nil).Expect(t, http.StatusOK).JSON(t, &seen)
	if len(seen.Packages) != 1 || seen.Packages[0].Cost != nil {
		t.Fatalf("consultant sees packages %+v", seen.Packages)
	}
	// The package's cost goes into a consultant's quote line by name.
	q2 := createQuote(t, c, map[string]any{"customerId": cust, "modelId": camryID(t, env), "accessories": []map[string]any{{"name": "新车护理套餐", "price": 298_000}}})
	var accJSON string
	env.App.DB.R.QueryRow(`SELECT accessories FROM quote WHERE id = ?`, q2.ID).Scan(&accJSON)
	if !bytes.Contains([]byte(accJSON), []byte(`"cost":90000`)) {
		t.Fatalf("package cost not taken: %s", accJSON)
	}
}

func ptr[T any](v T) *T { return &v }

// actor builds the auth.Actor of a demo user the way a request would.
func actor(t *testing.T, env *apptest.Env, username string) auth.Actor {
	t.Helper()
	ctx := context.Background()
	uid := env.UserID(username)
	var store int64
	if err := env.App.DB.R.QueryRow(`SELECT store_id FROM app_user WHERE id = ?`, uid).Scan(&store); err != nil {
		t.Fatal(err)
	}
	tok, err := env.App.Auth.CreateSession(ctx, env.App.DB.W, uid, store, "", "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := env.App.Auth.ResolveSession(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func errCode(err error) string {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	return err.Error()
}

// TestQuote_TradeInCredit: an appraised trade-in of the customer is credited at
// its offered value (the cash need drops by exactly that much, the label is kept
// for the print); another customer's trade-in is refused on the field.
func TestQuote_TradeInCredit(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("sales")
	cust := newCustomer(t, c, "13900001007")
	other := newCustomer(t, c, "13900001008")
	var ti tradein.TradeIn
	c.Do("POST", "/trade-ins", map[string]any{"customerId": cust, "brand": "大众", "series": "朗逸", "model": "1.5L 自动舒适版", "year": 2019,
		"firstRegDate": "2019-06-18", "plate": "浙A7Q531", "mileageKm": 62000, "color": "白", "fuel": "petrol"}).Expect(t, http.StatusCreated).JSON(t, &ti)
	checklist := map[string]any{}
	for _, k := range tradein.Categories {
		checklist[k] = map[string]any{"grade": "ok", "note": ""}
	}
	c.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID), map[string]any{"checklist": checklist, "offeredFen": 5_600_000, "version": ti.Version}).
		Expect(t, http.StatusOK)
	model := camryID(t, env)
	plain := createQuote(t, c, map[string]any{"customerId": cust, "modelId": model, "discount": 500_000})
	with := createQuote(t, c, map[string]any{"customerId": cust, "modelId": model, "discount": 500_000, "tradeInId": ti.ID})
	if with.Computed.TradeIn != 5_600_000 || with.Computed.CashNeed != plain.Computed.CashNeed-5_600_000 || with.Computed.Total != plain.Computed.Total ||
		with.TradeInID == nil || *with.TradeInID != ti.ID || with.TradeInLabel == "" {
		t.Fatalf("trade-in credit: %d, cash %d vs %d, label %q", with.Computed.TradeIn, with.Computed.CashNeed, plain.Computed.CashNeed, with.TradeInLabel)
	}
	storedMatchesCompute(t, env, with.ID)
	r := c.Do("POST", "/quotes", map[string]any{"customerId": other, "modelId": model, "tradeInId": ti.ID})
	if r.Status != http.StatusBadRequest || r.Error(t).Fields["tradeInId"].Code == "" {
		t.Fatalf("another customer's trade-in: %s", r)
	}
}
