package e2e_test

// The trade-in journey (置换, S8): a consultant registers a customer's used car,
// grades its condition item by item, types the offered value in yuan and saves;
// the page shows the offer in yuan and how long it holds, and the same
// trade-in reads well on a phone.

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"dealerdesk/app/apptest"
)

// TestJourney_AppraiseATradeIn: from 置换评估 the consultant registers 欧阳明轩's
// 2019 大众 朗逸 (plate typed with its dot), fills the checklist (all fine but
// the paint, which has minor marks), enters 68000 元 and saves. The trade-in
// then shows ¥68,000 valid until seven days on; the database holds 6,800,000
// fen. On a phone the trade-in list is cards and the trade-in page fits.
func TestJourney_AppraiseATradeIn(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL
	const (
		custName  = "欧阳明轩"
		custPhone = "13957100301"
	)
	var lead struct {
		CustomerID int64 `json:"customerId"`
	}
	env.As("sales").Do("POST", "/leads", map[string]any{"phone": custPhone, "name": custName, "channel": "walk_in", "grade": "H", "assign": "me"}).
		Expect(t, http.StatusCreated).JSON(t, &lead)

	b := newBrowser(t)
	b.deadline = time.Now().Add(3 * time.Minute)

	// --- the consultant registers the used car ---
	s := b.newPage("desktop", desktop)
	s.storeClock(env.Clock.Now())
	signIn(s, base, "sales")
	s.open(base, "/sales/trade-ins")
	s.waitVisible(sel("tradein-new"))
	s.click(sel("tradein-new"))
	s.waitVisible(sel("tradein-register-save"))
	typeInto(s, sel("tradein-customer")+" input", custName[:len(custName)-3])
	opt := s.mark("the picker offers "+custName, fmt.Sprintf(`[...document.querySelectorAll('.el-select-dropdown__item')]
		.find(li => (%s)(li) && li.innerText.includes(%s)) || null`, visibleJS, js(custName)))
	s.click(opt)
	s.waitJS(custName+" is picked", fmt.Sprintf(`(() => { const el = document.querySelector(%s);
		return !!el && el.innerText.includes(%s) && ![...document.querySelectorAll('.el-select__popper')].some(%s) })()`, js(sel("tradein-customer")), js(custName), visibleJS))
	s.fill("tradein-brand", "大众")
	s.fill("tradein-series", "朗逸")
	s.fill("tradein-model", "1.5L 自动舒适版")
	s.fill("tradein-plate", "浙A·12345")
	s.fill("tradein-year", "2019")
	s.fill("tradein-mileage", "62000")
	s.fill("tradein-color", "白")
	s.shot("register-dialog")
	s.submit("tradein-register-save", "the trade-in page opens", `/^\/sales\/trade-ins\/\d+$/.test(location.pathname)`)
	id := strings.TrimPrefix(eval[string](s, `location.pathname`), "/sales/trade-ins/")
	s.waitText(sel("tradein-status"), "待评估")
	s.waitText(sel("tradein-vehicle"), "浙A·12345")

	// --- the appraisal: checklist, value in yuan ---
	s.waitVisible(sel("tradein-checklist"))
	s.click(sel("tradein-all-ok"))
	s.click(sel("tradein-check-paint-minor"))
	s.waitJS("the paint reads 轻微", fmt.Sprintf(`(() => { const el = document.querySelector(%s); return !!el && el.classList.contains('is-active') })()`, js(sel("tradein-check-paint-minor"))))
	s.fill("tradein-offered", "68000")
	s.waitText(sel("tradein-appraisal"), "¥68,000.00") // the typed value read back, to the fen
	s.shot("appraisal-form")
	s.submit("tradein-appraise-save", "the offer shows", fmt.Sprintf(`(() => { const el = document.querySelector(%s); return !!el && el.innerText.includes('¥68,000') })()`, js(sel("tradein-offer"))))
	s.waitText(sel("tradein-status"), "已评估")
	cst := time.FixedZone("CST", 8*3600)
	wantDay := env.Clock.Now().Add(7 * 24 * time.Hour).In(cst).Format("2006-01-02")
	if got := s.textOf(sel("tradein-valid-until")); !strings.Contains(got, wantDay) {
		s.fail("valid until reads %q; want %s (seven days on)", got, wantDay)
	}
	if got := s.textOf(sel("tradein-appraisal")); !strings.Contains(got, "第 1 次评估") || !strings.Contains(got, "轻微 1") {
		s.fail("the appraisal section reads %q; want 第 1 次评估 with one minor item", got)
	}
	// A consultant has no cost.read: no internal figures.
	if txt := s.textOf("main"); strings.Contains(txt, "内部") || strings.Contains(txt, "整备成本") {
		s.fail("the consultant sees the internal figures: %q", txt)
	}
	waitToastsGone(s)
	s.shot("appraised")

	var (
		status    string
		offered   int64
		checklist string
		validDiff int64
	)
	if err := env.App.DB.R.QueryRow(`SELECT t.status, t.offered_fen, a.checklist, t.valid_until - a.at FROM trade_in t JOIN trade_in_appraisal a ON a.trade_in_id = t.id
		WHERE t.id = ?`, id).Scan(&status, &offered, &checklist, &validDiff); err != nil || status != "appraised" || offered != 6_800_000 {
		t.Fatalf("trade-in %s in the database: %s %d (%v); want appraised at 6800000 fen", id, status, offered, err)
	}
	if !regexp.MustCompile(`"paint":\{"grade":"minor"`).MatchString(checklist) || !strings.Contains(checklist, `"engine":{"grade":"ok"`) {
		t.Errorf("the stored checklist is %s", checklist)
	}
	if d := time.Duration(validDiff) * time.Millisecond; d < 7*24*time.Hour-time.Hour || d > 7*24*time.Hour+time.Hour {
		t.Errorf("the offer holds %v; want about 7 days", d)
	}

	// --- on a phone ---
	m := b.newPage("phone", phone)
	m.storeClock(env.Clock.Now())
	signIn(m, base, "sales")
	m.open(base, "/sales/trade-ins")
	m.waitJS("the trade-ins are cards", fmt.Sprintf(`document.querySelectorAll(%s).length >= 1`, js(sel("tradein-row"))))
	if got := m.textOf(sel("tradein-row")); !strings.Contains(got, "浙A·12345") || !strings.Contains(got, "¥68,000") {
		m.fail("the card reads %q", got)
	}
	m.shot("list-cards")
	m.click(sel("tradein-row"))
	m.waitPath("/sales/trade-ins/" + id)
	m.waitText(sel("tradein-offer"), "¥68,000")
	eval[bool](m, fmt.Sprintf(`(document.querySelector(%s).scrollIntoView({ block: 'center' }), true)`, js(sel("tradein-offer"))))
	if wide := eval[bool](m, `document.documentElement.scrollWidth > window.innerWidth + 1`); wide {
		m.fail("the trade-in page is wider than the phone (%d px)", eval[int](m, `document.documentElement.scrollWidth`))
	}
	m.shot("trade-in")
	// Re-appraising on the phone: the checklist is one column and fits.
	m.click(sel("tradein-reappraise"))
	m.waitVisible(sel("tradein-checklist"))
	eval[bool](m, fmt.Sprintf(`(document.querySelector(%s).scrollIntoView({ block: 'start' }), true)`, js(sel("tradein-checklist"))))
	if wide := eval[bool](m, `document.documentElement.scrollWidth > window.innerWidth + 1`); wide {
		m.fail("the appraisal form is wider than the phone (%d px)", eval[int](m, `document.documentElement.scrollWidth`))
	}
	m.shot("reappraise-form")
}
