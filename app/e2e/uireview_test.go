package e2e_test

// TestSalesPagesRender walks every page of the sales process — the pipeline,
// the stage settings, the test-drive calendar (day and week), the fleet, the
// quotes, trade-ins and orders with their detail and print pages, the quote and
// order settings, the customer page's sales tabs and the workbench — as a
// consultant, a sales manager and the GM, on a desktop and on a 375 px phone,
// in Chinese, and once more as a manager who works in English. On every page it
// fails on what would make a store manager distrust the screen: an untranslated
// message key, a raw status code, a date in milliseconds, "undefined"/"NaN", a
// page wider than the phone, an error in the browser console or an error toast,
// and (in English) Chinese in the page title, the buttons and the table headers.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

// salesIDs are the records the walk opens: all of them readable by the
// consultant `sales` (the customer's owner), so every role sees the same pages.
type salesIDs struct {
	customer, testDrive, quote, tradeIn, order int64
	driveCustomer                              int64 // the customer of the test drive (a completed one with a change of intent)
}

func findSalesIDs(t *testing.T, env *apptest.Env) salesIDs {
	t.Helper()
	var ids salesIDs
	// The consultant's customer with the most sales documents: its tabs are not empty.
	err := env.App.DB.R.QueryRow(`SELECT c.id FROM customer c JOIN app_user u ON u.id = c.owner_id AND u.username = 'sales'
		ORDER BY EXISTS (SELECT 1 FROM test_drive WHERE customer_id = c.id)
		       + EXISTS (SELECT 1 FROM quote WHERE customer_id = c.id)
		       + EXISTS (SELECT 1 FROM trade_in WHERE customer_id = c.id)
		       + EXISTS (SELECT 1 FROM sales_order WHERE customer_id = c.id) DESC, c.id LIMIT 1`).Scan(&ids.customer)
	if err != nil {
		t.Fatalf("a customer of the consultant: %v", err)
	}
	one := func(what, q string) int64 {
		var id int64
		if err := env.App.DB.R.QueryRow(q).Scan(&id); err != nil {
			t.Fatalf("the demo has no %s of the consultant: %v", what, err)
		}
		return id
	}
	const mine = `(SELECT c.id FROM customer c JOIN app_user u ON u.id = c.owner_id AND u.username = 'sales')`
	ids.testDrive = one("test drive", `SELECT id FROM test_drive WHERE customer_id IN `+mine+` ORDER BY status = 'completed' AND intent_change <> '' DESC, id DESC LIMIT 1`)
	ids.driveCustomer = one("test drive's customer", fmt.Sprintf(`SELECT customer_id FROM test_drive WHERE id = %d`, ids.testDrive))
	ids.quote = one("quote", `SELECT id FROM quote WHERE customer_id IN `+mine+` ORDER BY status = 'accepted' DESC, id LIMIT 1`)
	ids.tradeIn = one("trade-in", `SELECT id FROM trade_in WHERE customer_id IN `+mine+` ORDER BY id LIMIT 1`)
	ids.order = one("order", `SELECT id FROM sales_order WHERE customer_id IN `+mine+` ORDER BY status = 'delivered' DESC, id LIMIT 1`)
	return ids
}

// localeKeyPattern matches a message key of the app's own namespaces shown as
// text (vue-i18n shows the key when a message is missing).
func localeKeyPattern(t *testing.T) *regexp.Regexp {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "embedui", "src", "locales", "zh-CN.json"))
	if err != nil {
		t.Fatalf("read the zh-CN messages: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("zh-CN.json: %v", err)
	}
	var ns []string
	for k := range m {
		ns = append(ns, regexp.QuoteMeta(k))
	}
	sort.Strings(ns)
	return regexp.MustCompile(`\b(?:` + strings.Join(ns, "|") + `)\.[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*`)
}

var (
	// snake_case words: status and reason codes (in_progress, pending_approval).
	rawCodeRe = regexp.MustCompile(`(?:^|[^A-Za-z0-9_@./-])([a-z]+_[a-z_]+)(?:$|[^A-Za-z0-9_@./-])`)
	// Unix milliseconds (2020–2033).
	rawMillisRe = regexp.MustCompile(`\b1[6-9]\d{11}\b`)
	badTextRe   = regexp.MustCompile(`\bundefined\b|\bNaN\b|Invalid Date|\[object Object\]|\bnull\b`)
	// A lone lowercase word on its own line or cell in the Chinese UI: a code
	// such as up / same / down / booked shown raw.
	loneWordRe = regexp.MustCompile(`(?m)^\s*([a-z]{2,})\s*$`)
	// A code after a label's colon in the Chinese UI: 意向变化：up.
	// (or after a dot, as the timeline's "time · who": 12:11 · sop).
	colonCodeRe = regexp.MustCompile(`(?m)[：:·]\s*([a-z][a-z_]+)\s*$`)
	hanRe       = regexp.MustCompile(`\p{Han}`)
)

// newReviewPage opens a tab in its own browser context for a subtest (the
// subtest's t, so a failure stops only that walk) and collects the console's
// errors and the page's uncaught exceptions.
func newReviewPage(b *browser, t *testing.T, name string, vp viewport) (*page, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	listen := func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeAssert {
				return
			}
			var parts []string
			for _, a := range e.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			mu.Lock()
			errs = append(errs, "console.error: "+short(strings.Join(parts, " "), 300))
			mu.Unlock()
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			errs = append(errs, "exception: "+short(msg, 300))
			mu.Unlock()
		}
	}
	tab, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext(), chromedp.WithListener(listen))
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("e2e: open a tab: %v\nbrowser output:\n%s", err, b.out)
	}
	p := &page{b: b, t: t, name: name, tab: tab}
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.scale)}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	p.do("set the viewport", chromedp.EmulateViewport(vp.w, vp.h, opts...))
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := errs
		errs = nil
		return out
	}
	return p, take
}

// readyJS holds when the page has rendered its data: the route's page is in
// the DOM, nothing shows a loading mask or skeleton, and the text did not change
// since the previous poll.
const readyJS = `(() => {
	const root = document.querySelector('.dd-page, .qp-screen, .op-screen, main') || document.body;
	if (!root || root.innerText.trim().length < 4) return false;
	const busy = [...document.querySelectorAll('.el-loading-mask, .el-skeleton.is-animated, .is-loading')].some(e => e.offsetParent !== null);
	if (busy) return false;
	const txt = document.body.innerText;
	const prev = window.__ddPrevText; window.__ddPrevText = txt;
	return prev === txt })()`

func TestSalesPagesRender(t *testing.T) {
	t.Parallel()
	// The full demo: the people, the customers, the stock and the sales process.
	env := apptest.New(t)
	if _, _, err := demo.FillAll(t.Context(), env.App.DB, demo.ScaleDemo, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	base := env.Server.URL
	ids := findSalesIDs(t, env)
	keyRe := localeKeyPattern(t)

	// A sales manager of the first store who works in English.
	if _, err := env.App.DB.W.Exec(`INSERT INTO app_user (username, name, phone, password_hash, must_change_password, password_changed_at,
			role_id, store_id, department_id, status, locale, version, created_at, updated_at)
		SELECT 'manager_en', name, NULL, password_hash, 0, password_changed_at, role_id, store_id, department_id, status, 'en', 1, created_at, updated_at
		FROM app_user WHERE username = 'sales_manager'`); err != nil {
		t.Fatal(err)
	}

	type stop struct {
		name, path     string
		tab            string // a tab of the customer page to click
		week           bool   // the test-drive calendar's week view (desktop)
		noShell        bool   // print views: outside the app's layout
		managers       bool   // settings pages: managers and the GM only
		record         bool   // the title is the record's own (a plate, a name): data, not chrome
		ready          string // shown once the record has loaded
		wantZh, wantEn string // a pattern the page must show (a code rendered as text)
	}
	cust := fmt.Sprint(ids.customer)
	stops := []stop{
		{name: "home", path: "/"},
		{name: "pipeline", path: "/sales/pipeline"},
		{name: "stages", path: "/sales/stages", managers: true},
		{name: "testdrives-day", path: "/sales/test-drives"},
		{name: "testdrives-week", path: "/sales/test-drives", week: true},
		{name: "testdrive", path: fmt.Sprintf("/sales/test-drives/%d", ids.testDrive), ready: sel("td-status")},
		{name: "testdrive-cars", path: "/sales/test-drive-cars"},
		{name: "quotes", path: "/sales/quotes"},
		{name: "quote", path: fmt.Sprintf("/sales/quotes/%d", ids.quote), ready: sel("quote-status")},
		{name: "quote-new", path: "/sales/quotes/new?customerId=" + cust, ready: sel("quote-customer")},
		{name: "quote-print", path: fmt.Sprintf("/print/quotes/%d", ids.quote), noShell: true, ready: "article" + sel("quote-print")},
		{name: "tradeins", path: "/sales/trade-ins"},
		{name: "tradein", path: fmt.Sprintf("/sales/trade-ins/%d", ids.tradeIn), record: true, ready: sel("tradein-status")},
		{name: "orders", path: "/sales/orders"},
		{name: "order", path: fmt.Sprintf("/sales/orders/%d", ids.order), ready: sel("order-status")},
		{name: "order-print", path: fmt.Sprintf("/print/orders/%d", ids.order), noShell: true, ready: "article" + sel("order-print")},
		{name: "quote-settings", path: "/sales/quote-settings", managers: true},
		{name: "order-settings", path: "/sales/order-settings", managers: true},
		{name: "customer-timeline", record: true, path: "/crm/customers/" + cust, ready: sel("timeline") + " .dd-tl__kind"},
		// The test drive's customer: the timeline tells the change of intent in words (not up/same/down).
		{name: "testdrive-timeline", record: true, path: fmt.Sprintf("/crm/customers/%d", ids.driveCustomer), ready: sel("timeline") + " .dd-tl__kind",
			wantZh: `意向(提升|不变|降低)`, wantEn: `More likely|Unchanged|Less likely`},
		{name: "customer-testdrives", record: true, path: "/crm/customers/" + cust, tab: "tab-testdrives"},
		{name: "customer-quotes", record: true, path: "/crm/customers/" + cust, tab: "tab-quotes"},
		{name: "customer-tradeins", record: true, path: "/crm/customers/" + cust, tab: "tab-tradeins"},
		{name: "customer-orders", record: true, path: "/crm/customers/" + cust, tab: "tab-orders"},
	}
	type walk struct {
		name, login string
		vp          viewport
		en, shots   bool
	}
	walks := []walk{
		{"sales-desktop", "sales", desktop, false, false},
		{"sales-phone", "sales", phone375, false, false},
		{"manager-desktop", "sales_manager", desktop, false, false},
		{"manager-phone", "sales_manager", phone375, false, false},
		{"gm-desktop", "gm", desktop, false, false},
		{"gm-phone", "gm", phone375, false, false},
		{"en-desktop", "manager_en", desktop, true, false},
		{"en-phone", "manager_en", phone375, true, false},
	}
	if os.Getenv("DEALERDESK_REVIEW_SHOTS") != "" { // every walk's screenshots, for a review by eye
		for i := range walks {
			walks[i].shots = true
		}
	}

	b := newBrowser(t)
	// Generous for a loaded CI machine; an idle one needs far less.
	b.deadline = time.Now().Add(4 * time.Minute)
	// The walks run side by side, each in its own browser context (t.Run from
	// several goroutines, so -test.parallel does not queue them).
	var wg sync.WaitGroup
	for _, w := range walks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(w.name, func(t *testing.T) {
				p, consoleErrs := newReviewPage(b, t, w.name, w.vp)
				p.storeClock(env.Clock.Now())
				signIn(p, base, w.login)
				if !w.en {
					p.waitJS("the app is in Chinese", `document.documentElement.lang === 'zh-CN'`)
				}
				var problems []string
				for _, s := range stops {
					if s.managers && w.login == "sales" {
						continue
					}
					p.open(base, s.path)
					if w.en {
						p.waitJS("the app is in English", `document.documentElement.lang === 'en'`)
					}
					if !s.noShell {
						p.waitVisible(sel("app-header"))
					}
					if s.tab != "" {
						// A phone scrolls the tab bar sideways: click the tab where it is.
						p.waitVisible(sel(s.tab))
						p.do("open the tab "+s.tab, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).click()`, js(sel(s.tab)))))
						p.waitJS("the tab "+s.tab+" is active", fmt.Sprintf(`!!document.querySelector(%s)?.closest('.el-tabs__item.is-active')`, js(sel(s.tab))))
					}
					if s.week && w.vp.mobile {
						continue // the phone has no week view
					}
					if s.week {
						p.click(sel("view-mode") + ` label:nth-child(2)`)
						p.waitVisible(sel("week-grid"))
					}
					if s.ready != "" {
						p.waitVisible(s.ready)
					}
					p.waitJS(s.name+" has rendered", readyJS)
					problems = append(problems, reviewPage(p, s.name, w.vp.mobile, w.en, s.record, keyRe)...)
					if want := map[bool]string{false: s.wantZh, true: s.wantEn}[w.en]; want != "" {
						if !regexp.MustCompile(want).MatchString(p.text()) {
							problems = append(problems, fmt.Sprintf("%s: the page does not show %s", s.name, want))
						}
					}
					for _, e := range consoleErrs() {
						problems = append(problems, s.name+": "+e)
					}
					if w.shots {
						p.shot(s.name)
					}
				}
				if len(problems) > 0 {
					t.Errorf("%s (%s): %d problems:\n  %s", w.name, w.login, len(problems), strings.Join(problems, "\n  "))
				}
			})
		}()
	}
	wg.Wait()
}

// reviewPage checks the page as it is shown and returns what is wrong.
func reviewPage(p *page, name string, mobile, en, record bool, keyRe *regexp.Regexp) []string {
	p.t.Helper()
	var out []string
	bad := func(format string, args ...any) { out = append(out, name+": "+fmt.Sprintf(format, args...)) }
	// What the person reads: the page without the side menu (its labels are the app's, checked elsewhere).
	text := eval[string](p, `(() => { const m = document.querySelector('main, .qp-screen, .op-screen') || document.body; return m.innerText })()`)
	if m := keyRe.FindAllString(text, 5); len(m) > 0 {
		bad("untranslated message keys %q", m)
	}
	for _, m := range rawCodeRe.FindAllStringSubmatch(text, 5) {
		bad("a raw code %q", m[1])
	}
	if m := rawMillisRe.FindAllString(text, 3); len(m) > 0 {
		bad("dates in milliseconds %q", m)
	}
	if m := badTextRe.FindAllString(text, 3); len(m) > 0 {
		bad("%q on the page", m)
	}
	if !en {
		for _, m := range colonCodeRe.FindAllStringSubmatch(text, 5) {
			bad("a raw code after a label: %q", m[0])
		}
		for _, m := range loneWordRe.FindAllStringSubmatch(text, 5) {
			if !slices.Contains([]string{"km", "kg", "vs"}, m[1]) {
				bad("a lowercase English word alone in the Chinese UI: %q", m[1])
			}
		}
	}
	if n := eval[string](p, `[...document.querySelectorAll('.el-message--error, .el-notification .el-icon-error')].map(e => e.innerText.trim()).join(' | ')`); n != "" {
		bad("an error toast: %s", n)
	}
	if mobile {
		// The page must not scroll sideways; a kanban's columns and wide tables
		// scroll inside their own containers.
		got := eval[[]int](p, `[document.scrollingElement.scrollWidth, window.innerWidth]`)
		if got[0] > got[1]+1 {
			wide := eval[string](p, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
				.filter(e => !e.closest('.el-scrollbar__wrap, .el-table__body-wrapper, [data-scroll-x]'))
				.slice(0, 6).map(e => e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right)).join('; ')`)
			bad("scrolls sideways: scrollWidth %d > innerWidth %d (%s)", got[0], got[1], wide)
		}
		// Nothing of the page sticks out of the screen (cut off by a container that
		// hides its overflow, or off the edge) unless it sits in a container meant
		// to scroll sideways: a kanban's columns, a table, the tab bar.
		if stray := eval[string](p, `(() => {
			const inScroller = (e) => {
				if (e.closest('.el-table, .el-tabs__nav-wrap, .el-scrollbar, [data-scroll-x]')) return true;
				for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) { if (/(auto|scroll)/.test(getComputedStyle(a).overflowX)) return true }
				return false };
			return [...document.querySelectorAll('main *, .qp-screen *, .op-screen *')].filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.right > innerWidth + 1 && getComputedStyle(e).visibility !== 'hidden' && !inScroller(e) })
				.slice(0, 4).map(e => e.tagName.toLowerCase() + '.' + (typeof e.className === 'string' ? e.className.trim().split(/\s+/).join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right)).join('; ') })()`); stray != "" {
			bad("sticks out of the phone's screen: %s", stray)
		}
	}
	if en {
		// The chrome (title, buttons, tabs, table headers, form labels, empty
		// states) is English; the data (names, models, addresses, notes) may be
		// Chinese. The first line of each: a card's title, not what it says below.
		heads := "main h1, "
		if record {
			heads = ""
		}
		chrome := eval[[]string](p, `[...document.querySelectorAll('`+heads+` main h2, main h3, .qp-screen h1, .op-screen h1, .qp-screen button, .op-screen button, .qp-screen th, .op-screen th, main .el-button, main .el-tabs__item, main th, main .el-form-item__label, main .el-descriptions__label, main .el-empty__description, main .el-radio-button, main .el-card__header, main .dd-sop__col-name')]
			.filter(e => e.offsetParent !== null).map(e => e.innerText.trim().split('\n')[0].trim()).filter(Boolean)`)
		for _, s := range chrome {
			if hanRe.MatchString(s) {
				bad("Chinese in the English UI: %q", short(s, 80))
			}
		}
	}
	return out
}
