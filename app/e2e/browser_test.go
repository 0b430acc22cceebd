package e2e_test

// The browser side of the journeys: start Debian's Chromium headless, open pages
// in separate browser contexts (own cookies and localStorage, like separate
// people), and a few helpers that wait for the page instead of sleeping. Every
// failure saves a screenshot and prints the page's text.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// journeyTimeout bounds one journey: every browser action of a test shares it.
const journeyTimeout = 90 * time.Second

// chromiumPath finds the browser: Debian's chromium first, then the usual names.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const how = "apt-get install -y chromium fonts-noto-cjk"
	if os.Getenv("CI") == "true" {
		t.Fatalf("e2e: no Chromium found on PATH (chromium, chromium-browser, google-chrome): .ci/run must install chromium (%s)", how)
	}
	t.Skipf("e2e: no Chromium found on PATH; install Debian's packages to run the browser journeys: %s", how)
	return ""
}

// artifactsDir is where screenshots go: $DEALERDESK_ARTIFACTS or <tmp>/dealerdesk-e2e.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DEALERDESK_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "dealerdesk-e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("e2e: artifacts dir: %v", err)
	}
	return dir
}

// browser is one headless Chromium process for one test.
type browser struct {
	t        *testing.T
	root     context.Context // has run once: the browser lives as long as it
	deadline time.Time
	out      *tailBuffer // the browser's output, shown when something fails

	mu    sync.Mutex
	shots int
}

// newBrowser starts Chromium for the test and stops it at the end of the test.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath(t)
	out := &tailBuffer{max: 8 << 10}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		// The build network is closed: without these Chromium keeps dialling Google
		// services and its own connections get refused.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("hide-scrollbars", true), // stable screenshots
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1366, 850),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
	})
	// Start the browser on a context without a deadline (a deadline on the first
	// Run would kill the browser before a failure screenshot could be taken).
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("e2e: start %s: %v\nbrowser output:\n%s", exe, err, out)
	}
	return &browser{t: t, root: root, deadline: time.Now().Add(journeyTimeout), out: out}
}

// page is one tab in its own browser context (a separate person on a separate device).
type page struct {
	b    *browser
	t    *testing.T
	name string // "desktop", "phone" …, part of screenshot names
	tab  context.Context
}

// viewport says how big the page is; mobile turns on phone emulation.
type viewport struct {
	w, h   int64
	scale  float64
	mobile bool
}

var (
	desktop = viewport{w: 1366, h: 850, scale: 1}
	phone   = viewport{w: 390, h: 844, scale: 3, mobile: true}
)

// newPage opens a tab in a fresh browser context with the viewport.
func (b *browser) newPage(name string, vp viewport) *page {
	b.t.Helper()
	tab, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	// Open the tab on its own context: the first Run binds the tab's life to the
	// context it gets, so it must not be one of the short-lived per-step contexts.
	if err := chromedp.Do(tab); err != nil {
		b.t.Fatalf("e2e: open a tab: %v\nbrowser output:\n%s", err, b.out)
	}
	p := &page{b: b, t: b.t, name: name, tab: tab}
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.scale)}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	p.do("set the viewport", chromedp.EmulateViewport(vp.w, vp.h, opts...))
	return p
}

// storeClock makes the page's clock agree with the server's (the test's fake
// clock, which only moves when told to) and puts it in the stores' time zone:
// deadlines, "today" and the date pickers then read as they would in a store in
// China, whatever the machine's clock says. The page's time starts at now and
// runs on in real time. Call it before the first open.
func (p *page) storeClock(now time.Time) {
	p.t.Helper()
	offset := now.UnixMilli() - time.Now().UnixMilli()
	shim := fmt.Sprintf(`(() => {
		const off = %d, Real = Date;
		function StoreDate(...a) {
			if (!new.target) return new Real(Real.now() + off).toString();
			return a.length === 0 ? new Real(Real.now() + off) : new Real(...a);
		}
		StoreDate.prototype = Real.prototype;
		StoreDate.now = () => Real.now() + off;
		StoreDate.parse = Real.parse;
		StoreDate.UTC = Real.UTC;
		globalThis.Date = StoreDate;
	})()`, offset)
	ctx, cancel := p.ctx()
	defer cancel()
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: shim}); err != nil {
		p.fail("set the page's clock: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Shanghai"}); err != nil {
		p.fail("set the page's time zone: %v", err)
	}
}

// ctx is the tab's context bounded by the journey's deadline.
func (p *page) ctx() (context.Context, context.CancelFunc) {
	return context.WithDeadline(p.tab, p.b.deadline)
}

// do runs actions and fails the test (with a screenshot) on error.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.ctx()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := p.ctx()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail("evaluate %s: %v", short(expr, 200), err)
	}
	return v
}

// open navigates to a path of the app (or a full URL).
func (p *page) open(base, path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(base+path))
}

// waitJS polls a JavaScript condition (an expression that yields a truthy value)
// until it holds. It survives navigations, unlike chromedp.Poll, because each
// poll is a new evaluation.
func (p *page) waitJS(what, cond string) {
	p.t.Helper()
	p.waitUnless(what, cond, "")
}

// formErrorJS finds a shown form error: a field message or an error alert.
const formErrorJS = `[...document.querySelectorAll('.el-form-item__error, .el-alert--error, .el-message--error')].map(e => e.innerText.trim()).filter(Boolean).join(' | ')`

// waitUnless is waitJS that stops early, failing, when the expression failExpr
// yields a non-empty string (say, an error message the form shows).
func (p *page) waitUnless(what, cond, failExpr string) {
	p.t.Helper()
	ctx, cancel := p.ctx()
	defer cancel()
	if failExpr == "" {
		failExpr = "''"
	}
	expr := fmt.Sprintf(`(() => { try { if (%s) return 'ok'; return String((%s) || '') } catch (e) { return '' } })()`, cond, failExpr)
	var last error
	for {
		res, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err == nil && res == "ok" {
			return
		}
		if err == nil && res != "" {
			p.fail("while waiting until %s the page shows: %s", what, res)
		}
		if err != nil {
			last = err
		}
		if ctx.Err() != nil {
			msg := "timed out waiting until " + what
			if last != nil && !errors.Is(last, context.DeadlineExceeded) {
				msg += fmt.Sprintf(" (last error: %v)", last)
			}
			p.fail("%s\ncondition: %s", msg, cond)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond): // polling interval, not a timing guess
		}
	}
}

// sel is the CSS selector of a data-test hook.
func sel(hook string) string { return fmt.Sprintf(`[data-test=%q]`, hook) }

// js quotes a Go string as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitVisible waits until the element of the CSS selector is shown.
func (p *page) waitVisible(css string) {
	p.t.Helper()
	p.do("wait for "+css+" to be visible", chromedp.WaitVisible(chromedp.CSS(css)))
}

// settledJS holds when no finite animation or transition runs: drawers, dialogs
// and dropdowns move while they open and close, and a click aimed at a moving
// element lands on whatever is there (a spinner's endless animation is ignored).
const settledJS = `document.getAnimations().every(a => a.playState !== 'running' || !a.effect || a.effect.getComputedTiming().iterations === Infinity)`

// clickableJS holds when the element is on screen, has stopped moving (the same
// box on two polls in a row, no transition running) and is what a click at its
// centre would hit — not a fading dropdown, a toast or a drawer's mask. Vue
// starts a transition a frame after it inserts an element, so "visible" alone
// is not enough.
const clickableJS = `((css) => {
	const el = document.querySelector(css); if (!el) return false;
	const r = el.getBoundingClientRect();
	if (r.width === 0 || r.height === 0) return false;
	if (r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) { el.scrollIntoView({ block: 'center' }); return false }
	if (!(` + settledJS + `)) return false;
	const box = [r.x, r.y, r.width, r.height].join(',');
	const prev = el.__e2eBox; el.__e2eBox = box;
	if (prev !== box) return false;
	const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
	return !!hit && el.contains(hit) })`

// click clicks (a real mouse click) the element of the CSS selector once it can
// be clicked (see clickableJS).
func (p *page) click(css string) {
	p.t.Helper()
	p.waitJS("a click can reach "+css, fmt.Sprintf(`%s(%s)`, clickableJS, js(css)))
	p.do("click "+css, chromedp.Click(chromedp.CSS(css)))
}

// fill types text into the input (or textarea) inside a data-test hook. The hook
// may sit on the el-input or on its el-form-item. Text goes in as an IME commit
// (Input.insertText), so Chinese is typed the way a real keyboard enters it.
func (p *page) fill(hook, text string) {
	p.t.Helper()
	css := fmt.Sprintf(`%s input:not([type=hidden]), %s textarea`, sel(hook), sel(hook))
	p.waitVisible(css)
	p.click(css)
	ctx, cancel := p.ctx()
	defer cancel()
	// Select what is there so the typed text replaces it.
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const el = document.querySelector(%s); el.focus(); el.select(); })()`, js(css))))
	if err == nil {
		_, err = chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text})
	}
	if err != nil {
		p.fail("type into %s: %v", hook, err)
	}
	got := eval[string](p, fmt.Sprintf(`document.querySelector(%s).value`, js(css)))
	if got != text {
		p.fail("type into %s: the field holds %q, want %q", hook, got, text)
	}
}

var marks struct {
	sync.Mutex
	n int
}

// mark finds an element with a JavaScript expression and tags it with a unique
// attribute, so a real mouse click can be aimed at it. It waits until the
// expression yields an element.
func (p *page) mark(what, findExpr string) string {
	p.t.Helper()
	marks.Lock()
	marks.n++
	id := fmt.Sprintf("m%d", marks.n)
	marks.Unlock()
	p.waitJS(what, fmt.Sprintf(`(() => { const el = (%s); if (!el) return false; el.setAttribute('data-e2e', %s); return true })()`, findExpr, js(id)))
	return fmt.Sprintf(`[data-e2e=%q]`, id)
}

// visibleJS is a JavaScript function telling whether an element is shown.
const visibleJS = `(el) => { if (!el) return false; const r = el.getBoundingClientRect(); if (r.width === 0 || r.height === 0) return false; const s = getComputedStyle(el); return s.visibility !== 'hidden' && s.display !== 'none' }`

// pick chooses an option of an el-select by its label: click the select (the hook
// may be on the el-select or its el-form-item), then the dropdown item with that text.
func (p *page) pick(hook, label string) {
	p.t.Helper()
	wrapper := p.mark("the select "+hook+" is shown", fmt.Sprintf(`(() => {
		const root = document.querySelector(%s); if (!root) return null;
		const s = root.matches('.el-select') ? root : root.querySelector('.el-select'); if (!s) return null;
		const w = s.querySelector('.el-select__wrapper') || s;
		return (%s)(w) ? w : null })()`, js(sel(hook)), visibleJS))
	p.click(wrapper)
	item := p.mark(fmt.Sprintf("the option %q of %s is shown", label, hook), fmt.Sprintf(`[...document.querySelectorAll('.el-select-dropdown__item')]
		.find(li => li.textContent.trim() === %s && (%s)(li) && !li.classList.contains('is-disabled')) || null`, js(label), visibleJS))
	p.click(item)
	// The select shows the label once Vue took the choice, and the dropdown is gone
	// (while it fades out it still covers what lies below it).
	p.waitJS(fmt.Sprintf("%s shows %q and its dropdown closed", hook, label), fmt.Sprintf(`(() => {
		const root = document.querySelector(%s);
		const s = root.matches('.el-select') ? root : root.querySelector('.el-select');
		return s.innerText.includes(%s) && ![...document.querySelectorAll('.el-select__popper')].some(%s) })()`,
		js(sel(hook)), js(label), visibleJS))
}

// text is the page's visible text.
func (p *page) text() string {
	ctx, cancel := context.WithTimeout(p.tab, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if err != nil {
		return fmt.Sprintf("(could not read the page text: %v)", err)
	}
	return s
}

// textOf is the visible text of the first element of the CSS selector ("" when absent).
func (p *page) textOf(css string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el ? el.innerText : '' })()`, js(css)))
}

// waitText waits until the element of the CSS selector contains the text.
func (p *page) waitText(css, want string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf("%s shows %q", css, want), fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el && el.innerText.includes(%s) })()`, js(css), js(want)))
}

// waitPath waits until the app's route (location.pathname) is path.
func (p *page) waitPath(path string) {
	p.t.Helper()
	p.waitJS("the page is "+path, fmt.Sprintf(`location.pathname === %s`, js(path)))
}

// submit clicks a form's submit hook and waits until cond holds, failing at once
// when the form shows an error instead.
func (p *page) submit(hook, what, cond string) {
	p.t.Helper()
	p.click(sel(hook))
	p.waitUnless(what, cond, formErrorJS)
}

// pathIs is the JavaScript condition "the route is path".
func pathIs(path string) string { return fmt.Sprintf(`location.pathname === %s`, js(path)) }

// present tells whether an element of the CSS selector is in the DOM.
func (p *page) present(css string) bool {
	p.t.Helper()
	return eval[bool](p, fmt.Sprintf(`!!document.querySelector(%s)`, js(css)))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// shot saves a PNG of the viewport as <Test>-<page>-<nn>-<step>.png and returns its path.
func (p *page) shot(step string) string {
	p.t.Helper()
	path, err := p.capture(step)
	if err != nil {
		p.fail("screenshot %s: %v", step, err)
	}
	p.t.Logf("screenshot %s: %s", step, path)
	return path
}

func (p *page) capture(step string) (string, error) {
	p.settle()
	p.b.mu.Lock()
	p.b.shots++
	n := p.b.shots
	p.b.mu.Unlock()
	name := fmt.Sprintf("%s-%s-%02d-%s.png", unsafeName.ReplaceAllString(p.t.Name(), "_"), p.name, n, unsafeName.ReplaceAllString(step, "_"))
	path := filepath.Join(artifactsDir(p.t), name)
	// Its own short timeout: a failure screenshot must work after the journey's deadline.
	ctx, cancel := context.WithTimeout(p.tab, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, buf, 0o644)
}

// settle waits a little, without failing, for opening drawers and appearing tags
// to finish moving, so a screenshot shows the page at rest.
func (p *page) settle() {
	ctx, cancel := context.WithTimeout(p.tab, 3*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](settledJS)); err != nil || ok {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fail stops the test with what went wrong, a screenshot, the URL and the page's text.
func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	msg := fmt.Sprintf(format, args...)
	shot, err := p.capture("FAIL")
	if err != nil {
		shot = fmt.Sprintf("(no screenshot: %v)", err)
	}
	ctx, cancel := context.WithTimeout(p.tab, 5*time.Second)
	url, _ := chromedp.Run(ctx, chromedp.Location())
	cancel()
	p.t.Fatalf("e2e [%s]: %s\nurl: %s\nscreenshot: %s\npage text:\n%s\nbrowser output (tail):\n%s",
		p.name, msg, url, shot, indent(short(p.text(), 4000)), indent(p.b.out.String()))
}

func short(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + " …"
	}
	return s
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, line := range strings.SplitAfter(string(p), "\n") {
		// Containers have no D-Bus; Chromium says so many times a second.
		if !strings.Contains(line, "dbus/") {
			b.buf = append(b.buf, line...)
		}
	}
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
