package order_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/sales/order"
	"dealerdesk/app/sales/tradein"
)

// appraisedTradeIn registers and appraises a used car of the customer.
func appraisedTradeIn(t *testing.T, c *apptest.Client, customerID int64, plate string, fen int64) tradein.TradeIn {
	t.Helper()
	var ti tradein.TradeIn
	c.Do("POST", "/trade-ins", map[string]any{"customerId": customerID, "brand": "大众", "series": "朗逸", "model": "1.5L 自动舒适版", "year": 2019,
		"firstRegDate": "2019-06-18", "plate": plate, "mileageKm": 62000, "color": "白", "fuel": "petrol"}).Expect(t, http.StatusCreated).JSON(t, &ti)
	checklist := map[string]any{}
	for _, k := range tradein.Categories {
		checklist[k] = map[string]any{"grade": "ok", "note": ""}
	}
	c.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID), map[string]any{"checklist": checklist, "offeredFen": fen, "version": ti.Version}).
		Expect(t, http.StatusOK).JSON(t, &ti)
	return ti
}

// TestOrder_TradeInCreditedByOneLiveOrder: one used car pays towards one new
// car. Two quotes may carry the same trade-in, but only one live order may
// credit it; once that order is cancelled the other quote can become an order.
// A trade-in withdrawn after the quote was accepted no longer counts.
func TestOrder_TradeInCreditedByOneLiveOrder(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 2)
	cust := newCustomer(t, c)
	ti := appraisedTradeIn(t, c, cust, "浙A·7T101", 5_000_000)

	q1 := acceptedQuote(t, c, cust, cars[0], map[string]any{"tradeInId": ti.ID})
	q2 := acceptedQuote(t, c, cust, cars[1], map[string]any{"tradeInId": ti.ID})
	if q1.Computed.TradeIn != 5_000_000 || q2.Computed.TradeIn != 5_000_000 {
		t.Fatalf("trade-in credit on the quotes: %d, %d", q1.Computed.TradeIn, q2.Computed.TradeIn)
	}
	o1 := createOrder(t, c, q1.ID)
	if o1.TradeInFen != 5_000_000 {
		t.Fatalf("order 1 trade-in %d", o1.TradeInFen)
	}
	r := c.Do("POST", "/orders", map[string]any{"quoteId": q2.ID})
	apptest.ExpectErr(t, r, http.StatusConflict, "order.tradein_used")
	var q2After struct{ Status string }
	c.Do("GET", fmt.Sprintf("/quotes/%d", q2.ID), nil).Expect(t, http.StatusOK).JSON(t, &q2After)
	if q2After.Status != "accepted" {
		t.Fatalf("the refused order must leave the quote accepted, got %s", q2After.Status)
	}

	// Cancel the first order: the trade-in is free for the second.
	post(t, c, o1.ID, "cancel", map[string]any{"reason": "customer_changed_mind"}, http.StatusOK)
	o2 := createOrder(t, c, q2.ID)
	if o2.TradeInFen != 5_000_000 || o2.TradeInID == nil || *o2.TradeInID != ti.ID {
		t.Fatalf("order 2 trade-in %d %v", o2.TradeInFen, o2.TradeInID)
	}
	// While order 2 credits it, the trade-in can be neither cancelled nor
	// declined: the order would keep a credit for a car the store never gets.
	var cur tradein.TradeIn
	c.Do("GET", fmt.Sprintf("/trade-ins/%d", ti.ID), nil).Expect(t, http.StatusOK).JSON(t, &cur)
	for _, action := range []string{"cancel", "decline"} {
		r := c.Do("POST", fmt.Sprintf("/trade-ins/%d/%s", ti.ID, action), map[string]any{"reason": "客户自行出售", "version": cur.Version})
		apptest.ExpectErr(t, r, http.StatusConflict, "tradein.in_order")
	}

	// A trade-in cancelled after the quote was accepted: no order credits it.
	cust2 := newCustomer(t, c)
	ti2 := appraisedTradeIn(t, c, cust2, "浙A·7T102", 3_000_000)
	q3 := acceptedQuote(t, c, cust2, cars[0], map[string]any{"tradeInId": ti2.ID})
	c.Do("POST", fmt.Sprintf("/trade-ins/%d/cancel", ti2.ID), map[string]any{"reason": "客户自行出售", "version": ti2.Version}).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, c.Do("POST", "/orders", map[string]any{"quoteId": q3.ID}), http.StatusConflict, "order.tradein_unavailable")
	var n int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM sales_order WHERE quote_id = ?`, q3.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("orders of quote 3: %d %v", n, err)
	}
	// The offer of the trade-in order 2 credits does not lapse under the order:
	// the expiry job leaves it alone.
	env.Clock.Advance(31 * 24 * time.Hour)
	if _, err := env.App.TradeIns.ExpireAppraisals(context.Background()); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := env.App.DB.R.QueryRow(`SELECT status FROM trade_in WHERE id = ?`, ti.ID).Scan(&status); err != nil || status != tradein.StatusAppraised {
		t.Fatalf("trade-in credited by a live order became %s (%v)", status, err)
	}
	_ = order.StatusDraft
}

// TestNoFloatInMoneyPaths: amounts are integer fen end to end; the packages
// holding money code must not use floating point (SQL avg() included).
func TestNoFloatInMoneyPaths(t *testing.T) {
	re := regexp.MustCompile(`(?i)float|\bavg\(`)
	for _, dir := range []string{".", "..", "../tradein"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				code := line
				if k := strings.Index(code, "//"); k >= 0 {
					code = code[:k]
				}
				if re.MatchString(code) {
					t.Errorf("%s:%d: floating point in a money package: %s", f, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
}

// timelineCount counts the customer's timeline events of a kind.
func timelineCount(t *testing.T, env *apptest.Env, customerID int64, kind string) int {
	t.Helper()
	var n int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM timeline_event WHERE customer_id = ? AND kind = ?`, customerID, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOrder_TimelineForRejectedContractAndVoidedPayment: every change of an
// order shows on the customer's timeline — also a contract the manager sends
// back and a payment finance voids (both change what the page shows).
func TestOrder_TimelineForRejectedContractAndVoidedPayment(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	cust := newCustomer(t, c)
	q := acceptedQuote(t, c, cust, cars[0], nil)
	o := createOrder(t, c, q.ID)

	o = post(t, c, o.ID, "submit", map[string]any{}, http.StatusOK)
	env.As("sales_manager").Do("POST", fmt.Sprintf("/approvals/%d/reject", *o.ApprovalID), map[string]any{"comment": "价格再议"}).Expect(t, http.StatusOK)
	if got := get(t, c, o.ID); got.Status != order.StatusDraft {
		t.Fatalf("rejected contract: %s", got.Status)
	}
	if n := timelineCount(t, env, cust, "order.contract_rejected"); n != 1 {
		t.Fatalf("timeline events order.contract_rejected: %d", n)
	}

	o = post(t, c, o.ID, "payments", map[string]any{"kind": "deposit", "method": "cash", "amountFen": 500_000}, http.StatusOK)
	pid := o.Payments[len(o.Payments)-1].ID
	fin := env.As("finance")
	r := fin.Do("POST", fmt.Sprintf("/orders/%d/payments/%d/void", o.ID, pid), map[string]any{"note": "录错金额"})
	r.Expect(t, http.StatusOK)
	if n := timelineCount(t, env, cust, "order.payment_void"); n != 1 {
		t.Fatalf("timeline events order.payment_void: %d", n)
	}
}

// TestConcurrent_OneOrderPerQuoteAndTradeIn races many requests through the
// real API: one quote makes exactly one order, and of several quotes carrying
// the same trade-in exactly one becomes an order.
func TestConcurrent_OneOrderPerQuoteAndTradeIn(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	race := func(quotes []int64) (created int, codes map[string]int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		codes = map[string]int{}
		for _, q := range quotes {
			wg.Add(1)
			go func(q int64) {
				defer wg.Done()
				r := c.Do("POST", "/orders", map[string]any{"quoteId": q})
				mu.Lock()
				defer mu.Unlock()
				switch r.Status {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
					codes[r.Error(t).Code]++
				default:
					t.Errorf("order from quote %d: %s", q, r)
				}
			}(q)
		}
		wg.Wait()
		return created, codes
	}

	// One quote, 10 requests.
	q := acceptedQuote(t, c, newCustomer(t, c), cars[0], nil)
	same := make([]int64, 10)
	for i := range same {
		same[i] = q.ID
	}
	if n, codes := race(same); n != 1 || codes["quote.already_ordered"]+codes["order.quote_has_order"] != 9 {
		t.Fatalf("one quote: %d orders, refusals %v", n, codes)
	}

	// One trade-in on 6 quotes of the customer.
	cust := newCustomer(t, c)
	ti := appraisedTradeIn(t, c, cust, "浙A·7T201", 4_000_000)
	quotes := make([]int64, 6)
	for i := range quotes {
		quotes[i] = acceptedQuote(t, c, cust, cars[0], map[string]any{"tradeInId": ti.ID}).ID
	}
	if n, codes := race(quotes); n != 1 || codes["order.tradein_used"] != 5 {
		t.Fatalf("one trade-in: %d orders, refusals %v", n, codes)
	}
	var live int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM sales_order WHERE trade_in_id = ? AND status <> 'cancelled'`, ti.ID).Scan(&live); err != nil || live != 1 {
		t.Fatalf("live orders crediting the trade-in: %d %v", live, err)
	}
}

// TestOrder_TradeInWorthMoreThanTheCarIsRefused: a trade-in credited above the
// new car's out-the-door total would leave the store owing the customer money
// that no order figure carries; the order is refused with a clear message and
// the quote stays accepted.
func TestOrder_TradeInWorthMoreThanTheCarIsRefused(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	c := env.As("sales")
	cars := stockCars(t, env, 1)
	cust := newCustomer(t, c)
	ti := appraisedTradeIn(t, c, cust, "浙A·7T109", 90_000_000) // ¥900,000
	q := acceptedQuote(t, c, cust, cars[0], map[string]any{"tradeInId": ti.ID})
	if q.Computed.TradeIn <= q.Computed.Total {
		t.Fatalf("trade-in %d not above the total %d", q.Computed.TradeIn, q.Computed.Total)
	}
	apptest.ExpectErr(t, c.Do("POST", "/orders", map[string]any{"quoteId": q.ID}), http.StatusConflict, "order.tradein_exceeds_total")
	var status string
	if err := env.App.DB.R.QueryRow(`SELECT status FROM quote WHERE id = ?`, q.ID).Scan(&status); err != nil || status != "accepted" {
		t.Fatalf("quote after the refusal: %s %v", status, err)
	}
}
