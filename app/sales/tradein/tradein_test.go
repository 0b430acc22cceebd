package tradein_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/sales/tradein"
)

// customer makes a customer owned by the consultant c (a phone lead assigned to self).
func customer(t *testing.T, c *apptest.Client, phone, name string) int64 {
	t.Helper()
	var res struct {
		CustomerID int64 `json:"customerId"`
	}
	c.Do("POST", "/leads", map[string]any{"phone": phone, "channel": "phone", "assign": "me", "name": name}).Expect(t, http.StatusCreated).JSON(t, &res)
	return res.CustomerID
}

func car(customerID int64, plate string) map[string]any {
	return map[string]any{"customerId": customerID, "brand": "大众", "series": "朗逸", "model": "1.5L 自动舒适版", "year": 2019,
		"firstRegDate": "2019-06-18", "plate": plate, "mileageKm": 62000, "color": "白", "fuel": "petrol", "transferCount": 0}
}

func register(t *testing.T, c *apptest.Client, body map[string]any) tradein.TradeIn {
	t.Helper()
	var ti tradein.TradeIn
	c.Do("POST", "/trade-ins", body).Expect(t, http.StatusCreated).JSON(t, &ti)
	return ti
}

func checklist(grade string) map[string]any {
	m := map[string]any{}
	for _, c := range tradein.Categories {
		m[c] = map[string]any{"grade": grade, "note": ""}
	}
	return m
}

func appraise(t *testing.T, c *apptest.Client, ti tradein.TradeIn, fen int64, extra map[string]any) tradein.TradeIn {
	t.Helper()
	body := map[string]any{"checklist": checklist("ok"), "offeredFen": fen, "version": ti.Version}
	for k, v := range extra {
		body[k] = v
	}
	var out tradein.TradeIn
	c.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID), body).Expect(t, http.StatusOK).JSON(t, &out)
	return out
}

func count(t *testing.T, env *apptest.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := env.App.DB.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRegister_PlateAndVINRules: plates are checked and normalized (incl. new
// energy plates), a China-built VIN with a wrong check digit is refused, an
// imported one kept with a warning, and one plate has one open trade-in.
func TestRegister_PlateAndVINRules(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	cid := customer(t, sales, "13900007001", "钱置换")

	for _, c := range []struct{ plate, code string }{{"浙A1234", "tradein.plate_invalid"}, {"AB12345", "tradein.plate_invalid"}, {"", "required"}} {
		apptest.ExpectField(t, sales.Do("POST", "/trade-ins", car(cid, c.plate)), "plate", c.code)
	}
	b := car(cid, "浙a·d12345")
	b["vin"] = "LFV2A21K9P4012345" // China-built, wrong check digit
	apptest.ExpectField(t, sales.Do("POST", "/trade-ins", b), "vin", "vin.check_digit")
	b["vin"] = "WVWZZZ1KZAW000001" // imported: check digit not used → a warning
	ti := register(t, sales, b)
	if ti.Plate != "浙AD12345" || ti.Status != tradein.StatusRegistered || len(ti.Warnings) != 1 || ti.Warnings[0] != "vin.check_digit" ||
		ti.Label != "2019 大众 朗逸 1.5L 自动舒适版 浙A·D12345" || ti.ConsultantID == nil || *ti.ConsultantID != env.UserID("sales") {
		t.Fatalf("registered %+v", ti)
	}
	// The same car again while the first is open: refused.
	apptest.ExpectField(t, sales.Do("POST", "/trade-ins", car(cid, "浙AD12345")), "plate", "tradein.plate_open")
	if env.AuditCount("create", "trade_in") != 1 || count(t, env, `SELECT count(*) FROM timeline_event WHERE kind = 'tradein.registered' AND customer_id = ?`, cid) != 1 {
		t.Fatal("audit or timeline missing")
	}
	// Once cancelled, the plate is free again.
	sales.Do("POST", fmt.Sprintf("/trade-ins/%d/cancel", ti.ID), map[string]any{"reason": "客户不卖了", "version": ti.Version}).Expect(t, http.StatusOK)
	register(t, sales, car(cid, "浙AD12345"))
	// Unknown customer: a field error, not a 404 of the route.
	apptest.ExpectField(t, sales.Do("POST", "/trade-ins", car(999999, "浙B12345")), "customerId", "tradein.customer_unknown")
}

// TestAppraise_VersionsAndExpiry: each appraisal is a version; the offer holds
// 7 days by default; the job expires it, a re-appraisal revives it.
func TestAppraise_VersionsAndExpiry(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	cid := customer(t, sales, "13900007002", "孙评估")
	ti := register(t, sales, car(cid, "浙A·54321"))

	bad := checklist("ok")
	delete(bad, "engine")
	bad["gearbox"] = map[string]any{"grade": "terrible"}
	r := sales.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID), map[string]any{"checklist": bad, "offeredFen": 0, "version": ti.Version})
	e := apptest.ExpectErr(t, r, http.StatusBadRequest, "invalid")
	if e.Fields["checklist.engine"].Code != "required" || e.Fields["checklist.gearbox"].Code != "invalid_format" || e.Fields["offeredFen"].Code != "required" {
		t.Fatalf("fields %+v", e.Fields)
	}

	a1 := appraise(t, sales, ti, 6_800_000, map[string]any{"remarks": "右后门补漆"})
	now := env.Clock.Now().UnixMilli()
	if a1.Status != tradein.StatusAppraised || a1.AppraisalNo != 1 || *a1.OfferedFen != 6_800_000 || *a1.ValidUntil != now+7*24*3600*1000 ||
		a1.AppraisedByName == "" || len(a1.Appraisals) != 1 || a1.Appraisals[0].Checklist["engine"].Grade != "ok" {
		t.Fatalf("appraised %+v", a1)
	}
	// Re-appraisal: version 2, the first kept.
	a2 := appraise(t, sales, a1, 6_500_000, map[string]any{"validUntil": now + 3*24*3600*1000})
	if a2.AppraisalNo != 2 || *a2.OfferedFen != 6_500_000 || len(a2.Appraisals) != 2 || a2.Appraisals[0].No != 2 || a2.Appraisals[1].OfferedFen != 6_800_000 {
		t.Fatalf("re-appraised %+v", a2)
	}
	apptest.ExpectField(t, sales.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID),
		map[string]any{"checklist": checklist("minor"), "offeredFen": 100, "validUntil": now + 40*24*3600*1000, "version": a2.Version}), "validUntil", "tradein.valid_until_range")

	// The gate holds while the offer is valid.
	gate := env.App.TradeIns.Gates()[0]
	if okGate, err := gate.Check(context.Background(), env.App.DB.R, cid); err != nil || !okGate || gate.Key != "tradein_appraised" {
		t.Fatalf("gate %v %v", okGate, err)
	}
	env.Clock.Advance(3*24*time.Hour + time.Minute)
	if okGate, _ := gate.Check(context.Background(), env.App.DB.R, cid); okGate {
		t.Fatal("gate holds after valid-until")
	}
	n, err := env.App.TradeIns.ExpireAppraisals(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	if n, _ := env.App.TradeIns.ExpireAppraisals(context.Background()); n != 0 {
		t.Fatalf("expired twice: %d", n)
	}
	sales = env.As("sales") // the session ended while the clock ran
	var got tradein.TradeIn
	sales.Do("GET", fmt.Sprintf("/trade-ins/%d", ti.ID), nil).Expect(t, http.StatusOK).JSON(t, &got)
	if got.Status != tradein.StatusExpired || count(t, env, `SELECT count(*) FROM timeline_event WHERE kind = 'tradein.expired' AND customer_id = ?`, cid) != 1 ||
		env.AuditCount("tradein.expired", "trade_in") != 1 ||
		count(t, env, `SELECT count(*) FROM notification WHERE user_id = ? AND kind = 'tradein.expired' AND entity_id = ?`, env.UserID("sales"), ti.ID) != 1 {
		t.Fatalf("after expiry %+v", got)
	}
	// An agreement on an expired offer is refused; a re-appraisal revives it.
	apptest.ExpectErr(t, sales.Do("POST", fmt.Sprintf("/trade-ins/%d/agreement", ti.ID),
		map[string]any{"agreedFen": 6_000_000, "handoverDate": "2026-12-01", "sellerName": "孙评估", "version": got.Version}), http.StatusConflict, "tradein.status_refused")
	a3 := appraise(t, sales, got, 6_200_000, nil)
	if a3.Status != tradein.StatusAppraised || a3.AppraisalNo != 3 || len(a3.Appraisals) != 3 {
		t.Fatalf("revived %+v", a3)
	}
	if env.AuditCount("tradein.appraise", "trade_in") != 3 || count(t, env, `SELECT count(*) FROM timeline_event WHERE kind = 'tradein.appraised' AND customer_id = ?`, cid) != 3 {
		t.Fatal("audit or timeline of appraisals missing")
	}
}

// TestForQuote_Errors: the quote contract refuses another customer's, an
// unappraised, an expired and a cancelled trade-in, each as a field error on
// tradeInId, and credits a valid one.
func TestForQuote_Errors(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	ctx := context.Background()
	sys := auth.System("test")
	cid := customer(t, sales, "13900007003", "周报价")
	other := customer(t, sales, "13900007004", "吴别人")
	registered := register(t, sales, car(cid, "浙C11111"))
	valid := appraise(t, sales, register(t, sales, car(cid, "浙C22222")), 5_000_000, nil)
	expiring := appraise(t, sales, register(t, sales, car(cid, "浙C33333")), 4_000_000, map[string]any{"validUntil": env.Clock.Now().UnixMilli() + 3600_000})
	cancelled := register(t, sales, car(cid, "浙C44444"))
	sales.Do("POST", fmt.Sprintf("/trade-ins/%d/cancel", cancelled.ID), map[string]any{"version": cancelled.Version}).Expect(t, http.StatusOK)
	env.Clock.Advance(2 * time.Hour)

	credit, err := env.App.TradeIns.ForQuote(ctx, env.App.DB.R, sys, valid.ID, cid)
	if err != nil || credit.ValueFen != 5_000_000 || credit.CustomerID != cid || credit.ValidUntil != *valid.ValidUntil || credit.Label != "2019 大众 朗逸 1.5L 自动舒适版 浙C·22222" {
		t.Fatalf("credit %+v %v", credit, err)
	}
	for _, c := range []struct {
		name     string
		id, cust int64
		code     string
	}{
		{"other customer", valid.ID, other, "tradein.other_customer"},
		{"not appraised", registered.ID, cid, "tradein.not_appraised"},
		{"expired", expiring.ID, cid, "tradein.expired"},
		{"cancelled", cancelled.ID, cid, "tradein.cancelled"},
		{"missing", 999999, cid, "tradein.not_found"},
	} {
		_, err := env.App.TradeIns.ForQuote(ctx, env.App.DB.R, sys, c.id, c.cust)
		e := apperr.As(err)
		if err == nil || e.Kind != apperr.Invalid || e.Fields["tradeInId"].Code != c.code {
			t.Errorf("%s: %v (%+v)", c.name, err, e)
		}
	}
	// A consultant who cannot read the customer does not learn it exists.
	stranger := auth.Actor{UserID: -1, Scope: auth.ScopeOwn, HomeStoreID: 1, StoreID: 1, Perms: map[string]bool{auth.PermCustomerRead: true, auth.PermSalesWrite: true}}
	_, err = env.App.TradeIns.ForQuote(ctx, env.App.DB.R, stranger, valid.ID, cid)
	if e := apperr.As(err); err == nil || e.Fields["tradeInId"].Code != "tradein.not_found" {
		t.Fatalf("stranger: %v", err)
	}
}

// TestCostFields_HiddenWithoutCostRead: the internal resale and reconditioning
// figures reach only cost.read holders; a consultant cannot overwrite them.
func TestCostFields_HiddenWithoutCostRead(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales, gm := env.As("sales"), env.As("gm")
	cid := customer(t, sales, "13900007005", "郑成本")
	ti := register(t, sales, car(cid, "浙D12345"))
	var a1 tradein.TradeIn
	gm.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID), map[string]any{"checklist": checklist("minor"), "offeredFen": 7_000_000,
		"expectedResaleFen": 8_200_000, "reconCostFen": 350_000, "version": ti.Version}).Expect(t, http.StatusOK).JSON(t, &a1)
	if a1.ExpectedResaleFen == nil || *a1.ExpectedResaleFen != 8_200_000 || *a1.ReconCostFen != 350_000 || a1.CostHidden {
		t.Fatalf("gm sees %+v", a1)
	}
	r := sales.Do("GET", fmt.Sprintf("/trade-ins/%d", ti.ID), nil).Expect(t, http.StatusOK)
	if strings.Contains(string(r.Body), "expectedResaleFen") || strings.Contains(string(r.Body), "reconCostFen") || !strings.Contains(string(r.Body), `"costHidden":true`) ||
		!strings.Contains(string(r.Body), `"offeredFen":7000000`) {
		t.Fatalf("consultant sees %s", r.Body)
	}
	list := sales.Do("GET", "/trade-ins?customerId="+fmt.Sprint(cid), nil).Expect(t, http.StatusOK)
	if strings.Contains(string(list.Body), "reconCostFen") {
		t.Fatalf("list leaks cost: %s", list.Body)
	}
	// A consultant's re-appraisal sends other figures: ignored, the gm's carry over.
	var a2 tradein.TradeIn
	sales.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID), map[string]any{"checklist": checklist("ok"), "offeredFen": 7_100_000,
		"expectedResaleFen": 1, "reconCostFen": 1, "version": a1.Version}).Expect(t, http.StatusOK).JSON(t, &a2)
	var seen tradein.TradeIn
	gm.Do("GET", fmt.Sprintf("/trade-ins/%d", ti.ID), nil).Expect(t, http.StatusOK).JSON(t, &seen)
	if seen.AppraisalNo != 2 || *seen.ExpectedResaleFen != 8_200_000 || *seen.ReconCostFen != 350_000 || seen.Appraisals[0].ReconCostFen == nil {
		t.Fatalf("gm after consultant's re-appraisal %+v", seen)
	}
}

// TestAgreement_AboveOfferNeedsManager: a consultant may agree at or below
// the offer, not above; a manager may, with confirmation and within the limit.
func TestAgreement_AboveOfferNeedsManager(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales, mgr := env.As("sales"), env.As("sales_manager")
	cid := customer(t, sales, "13900007006", "冯协议")
	ti := appraise(t, sales, register(t, sales, car(cid, "浙E12345")), 5_000_000, nil)
	path := fmt.Sprintf("/trade-ins/%d/agreement", ti.ID)
	body := func(fen int64, confirm bool, version int64) map[string]any {
		return map[string]any{"agreedFen": fen, "handoverDate": "2026-11-30", "sellerName": "冯协议", "paymentNote": "转账至尾号 1234", "managerConfirm": confirm, "version": version}
	}
	apptest.ExpectField(t, sales.Do("POST", path, body(5_100_000, true, ti.Version)), "agreedFen", "tradein.above_offer")
	apptest.ExpectField(t, mgr.Do("POST", path, body(5_100_000, false, ti.Version)), "agreedFen", "tradein.confirm_above_offer")
	apptest.ExpectField(t, mgr.Do("POST", path, body(5_600_000, true, ti.Version)), "agreedFen", "tradein.above_limit")
	apptest.ExpectField(t, sales.Do("POST", path, map[string]any{"agreedFen": 100, "version": ti.Version}), "sellerName", "required")
	var done tradein.TradeIn
	mgr.Do("POST", path, body(5_200_000, true, ti.Version)).Expect(t, http.StatusOK).JSON(t, &done)
	if done.Status != tradein.StatusPurchased || done.Agreement == nil || done.Agreement.AgreedFen != 5_200_000 || done.Agreement.ConfirmedByName == "" ||
		done.Agreement.SellerName != "冯协议" || done.Agreement.HandoverDate != "2026-11-30" {
		t.Fatalf("agreement %+v", done)
	}
	// Purchased: the quote credits the agreed price; no further appraisal.
	credit, err := env.App.TradeIns.ForQuote(context.Background(), env.App.DB.R, auth.System("t"), ti.ID, cid)
	if err != nil || credit.ValueFen != 5_200_000 {
		t.Fatalf("credit %+v %v", credit, err)
	}
	apptest.ExpectErr(t, sales.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID), map[string]any{"checklist": checklist("ok"), "offeredFen": 1, "version": done.Version}),
		http.StatusConflict, "tradein.status_refused")

	// A consultant at or below the offer needs nobody.
	t2 := appraise(t, sales, register(t, sales, car(cid, "浙E54321")), 3_000_000, nil)
	var d2 tradein.TradeIn
	sales.Do("POST", fmt.Sprintf("/trade-ins/%d/agreement", t2.ID), body(2_900_000, false, t2.Version)).Expect(t, http.StatusOK).JSON(t, &d2)
	if d2.Agreement.ConfirmedByName != "" || env.AuditCount("tradein.agreement", "trade_in") != 2 ||
		count(t, env, `SELECT count(*) FROM timeline_event WHERE kind = 'tradein.purchased' AND customer_id = ?`, cid) != 2 {
		t.Fatalf("consultant agreement %+v", d2)
	}
	// The KPI figures of the store.
	var st tradein.Stats
	mgr.Do("GET", "/trade-ins/stats", nil).Expect(t, http.StatusOK).JSON(t, &st)
	if st.Purchased < 2 || st.Appraisals < 2 || st.AvgOfferedFen <= 0 {
		t.Fatalf("stats %+v", st)
	}
	apptest.ExpectErr(t, sales.Do("GET", "/trade-ins/stats", nil), http.StatusForbidden, "forbidden")
}

// TestConcurrent_AppraiseSameVersionOneWinner: of many writers holding the
// same version, exactly one wins; the rest get 409 conflict.stale.
func TestConcurrent_AppraiseSameVersionOneWinner(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	cid := customer(t, sales, "13900007007", "陈并发")
	ti := register(t, sales, car(cid, "浙F12345"))
	const n = 8
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			status[i] = sales.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID),
				map[string]any{"checklist": checklist("ok"), "offeredFen": 1_000_000 + i, "version": ti.Version}).Status
		}(i)
	}
	wg.Wait()
	won, lost := 0, 0
	for _, s := range status {
		switch s {
		case http.StatusOK:
			won++
		case http.StatusConflict:
			lost++
		}
	}
	if won != 1 || lost != n-1 || count(t, env, `SELECT count(*) FROM trade_in_appraisal WHERE trade_in_id = ?`, ti.ID) != 1 {
		t.Fatalf("won %d lost %d: %v", won, lost, status)
	}
	b := car(cid, "浙F12345")
	b["version"] = ti.Version
	apptest.ExpectErr(t, sales.Do("PUT", fmt.Sprintf("/trade-ins/%d", ti.ID), b), http.StatusConflict, "conflict.stale")
}

// TestScope_ConsultantSeesOnlyOwnCustomers: another consultant neither lists,
// reads nor changes the trade-in; the store's manager does.
func TestScope_ConsultantSeesOnlyOwnCustomers(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	var other string
	if err := env.App.DB.R.QueryRow(`SELECT u.username FROM app_user u JOIN role r ON r.id = u.role_id WHERE r.code = 'sales' AND u.store_id = 1 AND u.username <> 'sales' ORDER BY u.id LIMIT 1`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	peer := env.As(other)
	cid := customer(t, sales, "13900007008", "褚范围")
	ti := register(t, sales, car(cid, "浙G12345"))
	apptest.ExpectErr(t, peer.Do("GET", fmt.Sprintf("/trade-ins/%d", ti.ID), nil), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, peer.Do("POST", fmt.Sprintf("/trade-ins/%d/appraise", ti.ID), map[string]any{"checklist": checklist("ok"), "offeredFen": 1, "version": ti.Version}),
		http.StatusNotFound, "not_found")
	apptest.ExpectField(t, peer.Do("POST", "/trade-ins", car(cid, "浙G54321")), "customerId", "tradein.customer_unknown")
	var l struct {
		Items []tradein.TradeIn `json:"items"`
	}
	peer.Do("GET", "/trade-ins?q=G12345", nil).Expect(t, http.StatusOK).JSON(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("peer lists %+v", l.Items)
	}
	env.As("sales_manager").Do("GET", "/trade-ins?q="+"浙G·123", nil).Expect(t, http.StatusOK).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != ti.ID {
		t.Fatalf("manager lists %+v", l.Items)
	}
	sales.Do("GET", fmt.Sprintf("/trade-ins?customerId=%d&status=registered", cid), nil).Expect(t, http.StatusOK).JSON(t, &l)
	if len(l.Items) != 1 {
		t.Fatalf("own list %+v", l.Items)
	}
}

// TestList_KeysetPaging walks a customer's trade-ins two at a time.
func TestList_KeysetPaging(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	cid := customer(t, sales, "13900007009", "卫分页")
	for i := 0; i < 5; i++ {
		register(t, sales, car(cid, fmt.Sprintf("浙H1234%d", i)))
	}
	seen := map[int64]bool{}
	cursor := ""
	for page := 0; page < 5; page++ {
		var l struct {
			Items []tradein.TradeIn `json:"items"`
			Next  string            `json:"next"`
		}
		sales.Do("GET", fmt.Sprintf("/trade-ins?customerId=%d&limit=2&cursor=%s", cid, cursor), nil).Expect(t, http.StatusOK).JSON(t, &l)
		for _, x := range l.Items {
			if seen[x.ID] {
				t.Fatalf("seen twice: %d", x.ID)
			}
			seen[x.ID] = true
		}
		if cursor = l.Next; cursor == "" {
			break
		}
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d", len(seen))
	}
}

// TestConcurrent_RegisterSamePlateOneWinner: the same car registered from many
// requests at once is one open trade-in; the others are told the plate is taken.
func TestConcurrent_RegisterSamePlateOneWinner(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	cid := customer(t, sales, "13900007010", "蒋同车")
	const n = 6
	var wg sync.WaitGroup
	status := make([]int, n)
	codes := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := sales.Do("POST", "/trade-ins", car(cid, "浙J·88888"))
			status[i] = r.Status
			if r.Status != http.StatusCreated {
				codes[i] = r.Error(t).Fields["plate"].Code
			}
		}(i)
	}
	wg.Wait()
	won := 0
	for i, s := range status {
		switch {
		case s == http.StatusCreated:
			won++
		case codes[i] != "tradein.plate_open":
			t.Errorf("request %d: %d %q", i, s, codes[i])
		}
	}
	if won != 1 || count(t, env, `SELECT count(*) FROM trade_in WHERE plate = '浙J88888'`) != 1 {
		t.Fatalf("won %d: %v", won, status)
	}
}
