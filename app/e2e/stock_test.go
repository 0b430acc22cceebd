package e2e_test

// The vehicle stock journey: a consultant finds a car in stock by the last
// characters of its VIN and reserves it for a customer of theirs, while a
// colleague who wanted the same car is told plainly that it is gone; the
// consultant never sees what the car cost the store, the general manager does;
// and on a phone the stock list is a column of cards.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

// TestJourney_ReserveACarFromStock: the consultant types the last six characters
// of a car's VIN into 车辆库存, opens the one car listed and reserves it for one of
// their customers; a colleague who had the car open with a customer picked is
// refused when he submits, and the API refuses his session too. The consultant's
// pages show no cost; the general manager's show it. On a phone the list is cards.
func TestJourney_ReserveACarFromStock(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL

	// The colleague who wants the same car: another consultant of store 1.
	var colleague string
	if err := env.App.DB.R.QueryRow(`SELECT u.username FROM app_user u JOIN role r ON r.id = u.role_id
		WHERE r.code = 'sales' AND u.store_id = 1 AND u.username <> 'sales' ORDER BY u.id LIMIT 1`).Scan(&colleague); err != nil {
		t.Fatalf("a second consultant of store 1: %v", err)
	}
	// Each has customers of their own (the demo's organisation has none yet).
	const (
		custName   = "欧阳明轩"
		custPhone  = "13957100201"
		otherName  = "司马静怡"
		otherPhone = "13957100202"
	)
	newCustomer := func(who, name, phone string) int64 {
		var lead struct {
			CustomerID int64 `json:"customerId"`
		}
		env.As(who).Do("POST", "/leads", map[string]any{"phone": phone, "name": name, "channel": "walk_in", "grade": "H", "assign": "me"}).
			Expect(t, http.StatusCreated).JSON(t, &lead)
		return lead.CustomerID
	}
	otherID := newCustomer(colleague, otherName, otherPhone)
	custID := newCustomer("sales", custName, custPhone)
	// Then the stock, as the demo makes it (36 cars a store, one reserved for the store's first customer).
	if n, err := demo.FillStock(context.Background(), env.App.DB, env.Clock.Now(), 36); err != nil || n == 0 {
		t.Fatalf("demo stock: %d cars, %v", n, err)
	}

	// A car in stock in the consultant's store, and what it cost.
	var (
		carID int64
		vin   string
		cost  int64
	)
	if err := env.App.DB.R.QueryRow(`SELECT v.id, v.vin, v.cost FROM vehicle v JOIN app_user u ON u.store_id = v.store_id
		WHERE u.username = 'sales' AND v.status = 'in_stock' AND v.cost > 0 ORDER BY v.id LIMIT 1`).Scan(&carID, &vin, &cost); err != nil {
		t.Fatalf("an in-stock car of the consultant's store: %v", err)
	}
	suffix := vin[len(vin)-6:]
	costText := yuanText(cost)
	carPath := fmt.Sprintf("/inventory/vehicles/%d", carID)
	t.Logf("the car: #%d %s (typed: %s), cost %s", carID, vin, suffix, costText)

	b := newBrowser(t)
	// Four people and a phone: more than one form's worth of time.
	b.deadline = time.Now().Add(3 * time.Minute)

	// --- the consultant finds the car by the end of its VIN ---
	s := b.newPage("consultant", desktop)
	s.storeClock(env.Clock.Now())
	signIn(s, base, "sales")
	s.click(sel("menu-vehicles"))
	s.waitPath("/inventory/vehicles")
	s.waitJS("the stock is listed", fmt.Sprintf(`document.querySelectorAll(%s).length > 1`, js(sel("vehicle-row"))))
	s.fill("vehicle-search", suffix)
	s.waitJS("exactly the car is listed", fmt.Sprintf(`(() => { const rows = document.querySelectorAll(%s);
		return rows.length === 1 && rows[0].innerText.replace(/\s/g, '').includes(%s) })()`, js(sel("vehicle-row")), js(vin)))
	if row := s.textOf(sel("vehicle-row")); !strings.Contains(row, "在库") {
		s.fail("the car's row reads %q; want it 在库", row)
	}
	checkNoCost(s, "the consultant's stock list", costText)
	s.shot("stock-found-by-vin")

	s.click(sel("vehicle-row"))
	s.waitPath(carPath)
	s.waitText(sel("vehicle-header")+" "+sel("vehicle-status-tag"), "在库")
	s.waitVisible(sel("vehicle-reserve"))
	if got := strings.Join(strings.Fields(s.textOf(sel("vehicle-vin"))), ""); got != vin {
		s.fail("the car page shows the VIN %q, want %s", got, vin)
	}
	checkNoCost(s, "the consultant's car page", costText)
	s.shot("car-in-stock")

	// --- meanwhile the colleague has the same car open, his customer picked ---
	c := b.newPage("colleague", desktop)
	c.storeClock(env.Clock.Now())
	signIn(c, base, colleague)
	c.open(base, carPath)
	c.waitText(sel("vehicle-header")+" "+sel("vehicle-status-tag"), "在库")
	c.click(sel("vehicle-reserve"))
	pickCustomer(c, otherName[:len(otherName)-3], otherName)
	c.shot("colleague-about-to-reserve")

	// --- the consultant reserves it for their customer ---
	s.click(sel("vehicle-reserve"))
	s.waitVisible(sel("vehicle-reserve-submit"))
	// A consultant may only pick their own customers: the colleague's is not offered.
	typeInto(s, sel("vehicle-customer")+" input", otherName)
	s.waitJS("the picker finds none of the colleague's customers", fmt.Sprintf(`[...document.querySelectorAll('.el-select-dropdown')].some(d => (%s)(d) && d.innerText.includes('没有找到客户'))`, visibleJS))
	var found struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	env.As("sales").Do("GET", "/customers?status=all&q="+url.QueryEscape(otherName), nil).Expect(t, http.StatusOK).JSON(t, &found)
	if len(found.Items) != 0 {
		t.Errorf("the consultant's customer search for the colleague's %s finds %v; want nothing", otherName, found.Items)
	}
	pickCustomer(s, custName[:len(custName)-3], custName) // typed: part of the name
	s.shot("reserve-dialog")
	s.submit("vehicle-reserve-submit", "the car reads 已预订", fmt.Sprintf(`(() => { const t = document.querySelector(%s);
		return t && t.innerText.includes('已预订') })()`, js(sel("vehicle-header")+" "+sel("vehicle-status-tag"))))
	s.waitJS("the dialog closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(sel("vehicle-reserve-submit"))))
	if holder := s.textOf(sel("vehicle-holder")); !strings.Contains(holder, "已预订给") || !strings.Contains(holder, custName) {
		s.fail("the car page says %q; want it reserved for %s", holder, custName)
	}
	// The history, newest first: 在库 → 已预订 by the consultant.
	s.waitJS("the history shows 在库 → 已预订", fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
		const st = [...e.querySelectorAll(%s)].map(x => x.innerText.trim());
		return st.length === 2 && st[0] === '在库' && st[1] === '已预订' && e.innerText.includes('预订给客户') })()`, js(sel("vehicle-event")), js(sel("vehicle-status-tag"))))
	if s.present(sel("vehicle-reserve")) {
		s.fail("预订给客户 is still offered on a reserved car")
	}
	checkNoCost(s, "the consultant's reserved car", costText)
	waitToastsGone(s)
	s.shot("car-reserved")

	var (
		status       string
		reservedFor  int64
		events       int
		statusBefore string
	)
	if err := env.App.DB.R.QueryRow(`SELECT status, COALESCE(reserved_customer_id, 0) FROM vehicle WHERE id = ?`, carID).Scan(&status, &reservedFor); err != nil || status != "reserved" || reservedFor != custID {
		t.Errorf("car %d in the database: %s for customer %d (%v); want reserved for %d", carID, status, reservedFor, err, custID)
	}
	if err := env.App.DB.R.QueryRow(`SELECT count(*), COALESCE(MAX(from_status), '') FROM vehicle_event WHERE vehicle_id = ? AND to_status = 'reserved'`, carID).Scan(&events, &statusBefore); err != nil || events != 1 || statusBefore != "in_stock" {
		t.Errorf("reservation events of car %d: %d from %q (%v); want one from in_stock", carID, events, statusBefore, err)
	}

	// --- the colleague submits a moment later: refused, in words ---
	c.click(sel("vehicle-reserve-submit"))
	c.waitVisible(sel("vehicle-reserve-error"))
	refusal := strings.TrimSpace(c.textOf(sel("vehicle-reserve-error")))
	t.Logf("the colleague is told: %q", refusal)
	if !strings.Contains(refusal, "该车辆已被预订或售出") {
		c.fail("the colleague's reservation ends with %q; want 该车辆已被预订或售出，当前不可预订", refusal)
	}
	for _, bad := range []string{"409", "vehicle.not_available", "conflict", "undefined", "[object Object]"} {
		if strings.Contains(refusal, bad) {
			c.fail("the refusal shows %q: %q", bad, refusal)
		}
	}
	if c.present(sel("vehicle-reserve-submit")) {
		c.fail("确认预订 is still offered after the refusal")
	}
	// The page behind the dialog has reloaded the car: reserved, nothing to reserve.
	c.waitText(sel("vehicle-header")+" "+sel("vehicle-status-tag"), "已预订")
	c.waitJS("预订给客户 is gone from the car page", fmt.Sprintf(`!document.querySelector(%s)`, js(sel("vehicle-reserve"))))
	c.shot("colleague-refused")

	// The API says the same to the colleague's own session.
	e := apptest.ExpectErr(t, env.As(colleague).Do("POST", fmt.Sprintf("/vehicles/%d/reserve", carID), map[string]any{"customerId": otherID}),
		http.StatusConflict, "vehicle.not_available")
	if !strings.Contains(e.Message, "已被预订") {
		t.Errorf("the API's refusal reads %q; want the plain 该车辆已被预订或售出 message", e.Message)
	}
	if err := env.App.DB.R.QueryRow(`SELECT COALESCE(reserved_customer_id, 0) FROM vehicle WHERE id = ?`, carID).Scan(&reservedFor); err != nil || reservedFor != custID {
		t.Errorf("after the colleague's attempts car %d is held for customer %d (%v); want %d", carID, reservedFor, err, custID)
	}

	// --- the general manager sees what the car cost ---
	g := b.newPage("gm", desktop)
	g.storeClock(env.Clock.Now())
	signIn(g, base, "gm")
	g.open(base, carPath)
	g.waitText(sel("vehicle-header")+" "+sel("vehicle-status-tag"), "已预订")
	g.waitVisible(sel("vehicle-cost"))
	if got := strings.TrimSpace(g.textOf(sel("vehicle-cost"))); got != costText {
		g.fail("the general manager sees the cost as %q, want %s", got, costText)
	}
	if !strings.Contains(g.textOf(sel("vehicle-header")), "成本") {
		g.fail("the cost on the general manager's car page has no 成本 label")
	}
	g.shot("gm-sees-cost")

	// --- on a phone: the stock list is cards, and nothing scrolls sideways ---
	m := b.newPage("phone", smallPhone)
	m.storeClock(env.Clock.Now())
	signIn(m, base, "sales")
	m.click(sel("menu-toggle"))
	m.click(sel("menu-vehicles"))
	m.waitPath("/inventory/vehicles")
	m.waitJS("the stock is listed as cards", fmt.Sprintf(`(() => { const rows = [...document.querySelectorAll(%s)];
		return rows.length > 1 && rows.every(r => r.tagName === 'DIV' && r.classList.contains('dd-item-card')) })()`, js(sel("vehicle-row"))))
	if m.present("table") {
		m.fail("the stock list on a phone is a table")
	}
	if w := eval[int](m, `document.documentElement.scrollWidth`); w > 375 {
		m.fail("the stock list is %d px wide on a 375 px phone", w)
	}
	checkNoHorizontalScroll(m, "the stock list")
	checkNoCost(m, "the consultant's stock cards", costText)
	m.shot("stock-cards")
	// The reserved car's card, found the same way, says for whom.
	m.fill("vehicle-search", suffix)
	m.waitJS("the reserved car's card", fmt.Sprintf(`(() => { const rows = document.querySelectorAll(%s);
		return rows.length === 1 && rows[0].innerText.includes('已预订') && rows[0].innerText.includes(%s) })()`, js(sel("vehicle-row")), js(custName)))
	if w := eval[int](m, `document.documentElement.scrollWidth`); w > 375 {
		m.fail("the searched stock list is %d px wide on a 375 px phone", w)
	}
	m.shot("stock-card-reserved")
}

// pickCustomer types part of a name into the reserve dialog's customer picker
// and picks the customer of that name from what it finds.
func pickCustomer(p *page, typed, name string) {
	p.t.Helper()
	p.waitVisible(sel("vehicle-reserve-submit"))
	typeInto(p, sel("vehicle-customer")+" input", typed)
	opt := p.mark("the picker offers "+name, fmt.Sprintf(`[...document.querySelectorAll('.el-select-dropdown__item')]
		.find(li => (%s)(li) && li.innerText.includes(%s)) || null`, visibleJS, js(name)))
	p.click(opt)
	p.waitJS(name+" is picked and the dropdown closed", fmt.Sprintf(`(() => {
		const s = document.querySelector(%s + ' .el-select');
		return !!s && s.innerText.includes(%s) && ![...document.querySelectorAll('.el-select__popper')].some(%s) })()`,
		js(sel("vehicle-customer")), js(name), visibleJS))
}

// checkNoCost fails when the page shows a cost: the 成本 label, or the car's
// cost (in its text or anywhere in its markup).
func checkNoCost(p *page, where, costText string) {
	p.t.Helper()
	page := eval[[]string](p, `[(document.querySelector('main') || document.body).innerText, document.documentElement.outerHTML]`)
	if strings.Contains(page[0], "成本") {
		p.fail("%s shows 成本 to a consultant without cost.read", where)
	}
	for _, leak := range []string{costText, strings.TrimPrefix(costText, "¥")} {
		if strings.Contains(page[0], leak) || strings.Contains(page[1], leak) {
			p.fail("%s holds the car's cost %q", where, leak)
		}
	}
	// Unformatted, as a number of its own (not the digits inside a VIN).
	plain := regexp.MustCompile(`(^|[^0-9A-Za-z.])` + strings.ReplaceAll(strings.TrimPrefix(costText, "¥"), ",", "") + `([^0-9]|$)`)
	if m := plain.FindString(page[0] + "\n" + page[1]); m != "" {
		p.fail("%s holds the car's cost unformatted: %q", where, m)
	}
}

// yuanText formats fen the way the pages do (formatFen): ¥123,456, or ¥123,456.78 with cents.
func yuanText(fen int64) string {
	digits := fmt.Sprint(fen / 100)
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if c := fen % 100; c != 0 {
		return fmt.Sprintf("¥%s.%02d", b.String(), c)
	}
	return "¥" + b.String()
}
