package e2e_test

// The test-drive journey: a consultant opens 试乘试驾, clicks a free half hour of
// a car on tomorrow's calendar, picks a customer and books; a second booking of
// the same car that overlaps a colleague's is refused at the car field with the
// time it clashes with; the booking shows on the customer's page; on a phone
// the day is a list of cards.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/sales/testdrive"
)

// TestJourney_BookATestDrive books a test drive from the calendar and is
// refused the overlapping second one.
func TestJourney_BookATestDrive(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL

	var colleague string
	if err := env.App.DB.R.QueryRow(`SELECT u.username FROM app_user u JOIN role r ON r.id = u.role_id
		WHERE r.code = 'sales' AND u.store_id = 1 AND u.username <> 'sales' ORDER BY u.id LIMIT 1`).Scan(&colleague); err != nil {
		t.Fatalf("a second consultant of store 1: %v", err)
	}
	const (
		custName   = "欧阳试驾"
		secondName = "司马试驾"
		otherName  = "东方试驾"
	)
	newCustomer := func(who, name, phone string) int64 {
		var lead struct {
			CustomerID int64 `json:"customerId"`
		}
		env.As(who).Do("POST", "/leads", map[string]any{"phone": phone, "name": name, "channel": "walk_in", "grade": "H", "assign": "me"}).
			Expect(t, http.StatusCreated).JSON(t, &lead)
		return lead.CustomerID
	}
	custID := newCustomer("sales", custName, "13957100301")
	newCustomer("sales", secondName, "13957100302")
	otherID := newCustomer(colleague, otherName, "13957100303")

	// The store's fleet: two cars, as the sales manager adds them.
	var model int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM vehicle_model ORDER BY id LIMIT 1`).Scan(&model); err != nil {
		t.Fatal(err)
	}
	manager := env.As("sales_manager")
	var carA, carB testdrive.Car
	manager.Do("POST", "/test-drive-cars", map[string]any{"modelId": model, "plate": "浙AD1001", "mileage": 1500}).Expect(t, http.StatusCreated).JSON(t, &carA)
	manager.Do("POST", "/test-drive-cars", map[string]any{"modelId": model, "plate": "浙AD1002", "mileage": 800}).Expect(t, http.StatusCreated).JSON(t, &carB)

	// Tomorrow in the store (the fake clock is 17:00 in Shanghai): the colleague has car A 14:00–15:00.
	now := env.Clock.Now().In(shanghai)
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, shanghai)
	at := func(h, m int) int64 {
		return tomorrow.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).UnixMilli()
	}
	env.As(colleague).Do("POST", "/test-drives", map[string]any{"customerId": otherID, "carId": carA.ID, "startAt": at(14, 0), "endAt": at(15, 0)}).
		Expect(t, http.StatusCreated)

	b := newBrowser(t)
	b.deadline = time.Now().Add(3 * time.Minute)

	// --- the consultant opens 试乘试驾 and goes to tomorrow ---
	s := b.newPage("consultant", desktop)
	s.storeClock(env.Clock.Now())
	signIn(s, base, "sales")
	s.click(sel("menu-test-drives"))
	s.waitPath("/sales/test-drives")
	s.waitVisible(sel("day-grid"))
	s.click(sel("next"))
	s.waitText(sel("day-title"), tomorrow.Format("2006-01-02"))
	// The colleague's booking shows as taken, without the customer.
	block := fmt.Sprintf(`%s [data-car=%q] %s`, sel("day-grid"), fmt.Sprint(carA.ID), sel("booking"))
	s.waitText(block, "已预约")
	if strings.Contains(s.textOf(sel("day-grid")), otherName) {
		s.fail("the calendar shows the colleague's customer %s to the consultant", otherName)
	}

	// --- a free slot: car A at 10:00 ---
	s.click(fmt.Sprintf(`[data-test="slot"][data-car-id="%d"][data-time="10:00"]`, carA.ID))
	s.waitVisible(sel("book-save"))
	if got := s.textOf(sel("book-car")); !strings.Contains(got, "浙AD1001") {
		s.fail("the booking form has the car %q; want the clicked 浙AD1001", got)
	}
	pickTDCustomer(s, custName)
	s.shot("book-dialog")
	s.submit("book-save", "the dialog closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(sel("book-save"))))
	s.waitJS("the booking is on the calendar", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(b => b.innerText.includes(%s) && b.innerText.includes('10:00–11:00'))`, js(block), js(custName)))
	var id, start, end int64
	var status string
	if err := env.App.DB.R.QueryRow(`SELECT id, start_at, end_at, status FROM test_drive WHERE customer_id = ?`, custID).Scan(&id, &start, &end, &status); err != nil ||
		start != at(10, 0) || end != at(11, 0) || status != "booked" {
		t.Fatalf("the booking in the database: %d %d–%d %s (%v); want %d–%d booked", id, start, end, status, err, at(10, 0), at(11, 0))
	}
	waitToastsGone(s)
	s.shot("calendar-day")

	// --- a second booking of car A overlapping the colleague's: refused at the car ---
	s.click(fmt.Sprintf(`[data-test="slot"][data-car-id="%d"][data-time="14:30"]`, carB.ID))
	s.waitVisible(sel("book-save"))
	s.pick("book-car", carA.ModelName+" · 浙AD1001")
	pickTDCustomer(s, secondName)
	s.click(sel("book-save"))
	s.waitJS("the car field says it is taken", `[...document.querySelectorAll('.el-form-item__error')].some(e => e.innerText.includes('该试驾车在'))`)
	refusal := eval[string](s, `[...document.querySelectorAll('.el-form-item__error')].map(e => e.innerText).join(' | ')`)
	t.Logf("the consultant is told: %q", refusal)
	if !strings.Contains(refusal, "14:00–15:00") || !strings.Contains(refusal, "已有预约") {
		s.fail("the refusal reads %q; want 该试驾车在 … 14:00–15:00 已有预约", refusal)
	}
	for _, bad := range []string{"409", "testdrive.", "undefined", "[object Object]"} {
		if strings.Contains(refusal, bad) {
			s.fail("the refusal shows %q: %q", bad, refusal)
		}
	}
	s.shot("book-refused")
	var n int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM test_drive WHERE car_id = ? AND status = 'booked'`, carA.ID).Scan(&n); err != nil || n != 2 {
		t.Errorf("car A has %d bookings (%v); want the two that do not overlap", n, err)
	}
	s.click(s.mark("the dialog's close button", fmt.Sprintf(`[...document.querySelectorAll('.el-dialog__headerbtn')].find(%s) || null`, visibleJS)))
	s.waitJS("the dialog closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(sel("book-save"))))

	// --- the week view ---
	s.click(sel("view-mode") + " label:nth-child(2)")
	s.waitVisible(sel("week-grid"))
	s.waitText(sel("week-grid"), custName)
	s.shot("calendar-week")

	// --- the customer's page lists it ---
	s.open(base, fmt.Sprintf("/crm/customers/%d", custID))
	s.click(sel("tab-testdrives"))
	row := fmt.Sprintf(`%s[data-id="%d"]`, sel("customer-td"), id)
	s.waitText(row, "浙AD1001")
	if got := s.textOf(row); !strings.Contains(got, "待试驾") || !strings.Contains(got, "10:00") {
		s.fail("the customer's test drive reads %q; want 待试驾 at 10:00", got)
	}
	s.shot("customer-testdrives")
	// … and opens on the drive's page, waiting for the licence check.
	s.click(row)
	s.waitPath(fmt.Sprintf("/sales/test-drives/%d", id))
	s.waitVisible(sel("form-check"))
	s.waitText(sel("td-status"), "待试驾")
	s.shot("testdrive-page")

	// --- on a phone: tomorrow as a list of cards ---
	m := b.newPage("phone", smallPhone)
	m.storeClock(env.Clock.Now())
	signIn(m, base, "sales")
	m.open(base, "/sales/test-drives")
	m.waitVisible(sel("day-list"))
	m.click(sel("next"))
	m.waitJS("tomorrow's bookings as cards", fmt.Sprintf(`(() => { const cards = [...document.querySelectorAll(%s)];
		return cards.length === 2 && cards.some(c => c.innerText.includes(%s)) && cards.some(c => c.innerText.includes('已预约')) })()`, js(sel("day-list")+" "+sel("booking")), js(custName)))
	if m.present(sel("day-grid")) {
		m.fail("the phone shows the desktop grid")
	}
	checkNoHorizontalScroll(m, "the test-drive day list")
	m.shot("calendar-phone")

	// --- the sales manager's fleet page: the two cars, and the store's rules ---
	g := b.newPage("manager", desktop)
	g.storeClock(env.Clock.Now())
	signIn(g, base, "sales_manager")
	g.open(base, "/sales/test-drive-cars")
	g.waitText(sel("car-table"), "浙AD1002")
	g.shot("fleet")
	g.click(sel("td-settings"))
	g.waitJS("the rules dialog shows the routes", `[...document.querySelectorAll('.el-dialog textarea')].some(t => t.value.includes('市区常规路线'))`)
	g.shot("fleet-settings")
}

// pickTDCustomer types a customer's name into the booking form's picker and
// picks them.
func pickTDCustomer(p *page, name string) {
	p.t.Helper()
	typeInto(p, sel("book-customer")+" input", name)
	opt := p.mark("the picker offers "+name, fmt.Sprintf(`[...document.querySelectorAll('.el-select-dropdown__item')]
		.find(li => (%s)(li) && li.innerText.includes(%s)) || null`, visibleJS, js(name)))
	p.click(opt)
	p.waitJS(name+" is picked", fmt.Sprintf(`(() => { const s = document.querySelector(%s);
		return !!s && s.innerText.includes(%s) && ![...document.querySelectorAll('.el-select__popper')].some(%s) })()`,
		js(sel("book-customer")), js(name), visibleJS))
}
