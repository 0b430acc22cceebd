package e2e_test

// The special-price quote journey (S4 + S5): a consultant prices a car for a
// customer with a discount beyond the store's limit; the form's live figures
// (the server's sales.Compute) warn that it needs approval; saved, it cannot be
// sent, so the consultant submits it; the sales manager, on a 375-px phone,
// approves it from the approval inbox; the consultant sees it approved, sends
// it and opens the A4 print view, whose figures are the saved quote's to the fen
// and which carries no "not in force" watermark any more.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdpage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"dealerdesk/app/apptest"
	"dealerdesk/app/sales"
)

// phone375 is a small phone (iPhone SE/mini class), the narrowest a manager uses.
var phone375 = viewport{w: 375, h: 812, scale: 2, mobile: true}

// a4 is a desktop window tall enough to show a whole A4 sheet at 96 dpi.
var a4 = viewport{w: 900, h: 1230, scale: 1}

func TestJourney_QuoteOverLimitApprovedOnPhone(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL

	// A customer of the consultant who wants a 凯美瑞 2.0E 精英版 (MSRP ¥171,800).
	const custName, custPhone = "诸葛文博", "13957100301"
	var lead struct {
		CustomerID int64 `json:"customerId"`
	}
	env.As("sales").Do("POST", "/leads", map[string]any{"phone": custPhone, "name": custName, "channel": "walk_in", "grade": "H", "assign": "me"}).
		Expect(t, http.StatusCreated).JSON(t, &lead)
	var modelID, seriesID int64
	if err := env.App.DB.R.QueryRow(`SELECT id, series_id FROM vehicle_model WHERE name = '2.0E 精英版'`).Scan(&modelID, &seriesID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.DB.W.Exec(`UPDATE customer SET model_id = ?, series_id = ?, payment = 'loan' WHERE id = ?`, modelID, seriesID, lead.CustomerID); err != nil {
		t.Fatal(err)
	}
	// The store's letterhead: bank account and a footer, as a manager sets them.
	var st sales.QuoteSettings
	gm := env.As("gm")
	gm.Do("GET", "/quotes/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	st.Letterhead.BankAccount = "中国工商银行杭州汽车城支行 1202 0261 0900 1234 567"
	st.Letterhead.Footer = "服务热线 400-880-1234 · 以上价格含税，如有疑问请联系您的销售顾问。"
	st.Packages = []sales.PackageTemplate{{Name: "新车护理套餐", Price: 298_000}}
	gm.Do("PUT", "/quotes/settings", st).Expect(t, http.StatusOK)

	b := newBrowser(t)
	b.deadline = time.Now().Add(3 * time.Minute)

	// --- the consultant builds the quote from the customer page ---
	s := b.newPage("consultant", desktop)
	s.storeClock(env.Clock.Now())
	signIn(s, base, "sales")
	s.open(base, fmt.Sprintf("/crm/customers/%d", lead.CustomerID))
	s.click(sel("tab-quotes"))
	s.click(sel("customer-quote-new"))
	s.waitPath("/sales/quotes/new")
	s.waitText(sel("quote-customer"), custName)
	// The intended model is picked from the profile; the preview prices it.
	s.waitText(sel("quote-total"), "¥")
	s.fill("quote-discount", "15000")
	s.click(sel("quote-add-package"))
	item := s.mark("the package is offered", fmt.Sprintf(`[...document.querySelectorAll('.el-dropdown-menu__item')].find(li => (%s)(li) && li.innerText.includes('新车护理套餐')) || null`, visibleJS))
	s.click(item)
	s.waitVisible(sel("quote-needs-approval"))
	warn := s.textOf(sel("quote-needs-approval"))
	if !strings.Contains(warn, "须提交审批") || !strings.Contains(warn, "优惠比例超过门店上限") {
		s.fail("the approval warning reads %q", warn)
	}
	s.shot("quote-form-over-limit")
	s.submit("quote-save", "the quote page opens", `/^\/sales\/quotes\/\d+$/.test(location.pathname)`)
	s.waitText(sel("quote-status"), "草稿")
	if s.present(sel("quote-send")) {
		s.fail("发送给客户 is offered on a quote over the limit")
	}
	var q sales.QuoteDoc
	{
		var id int64
		if _, err := fmt.Sscanf(eval[string](s, `location.pathname`), "/sales/quotes/%d", &id); err != nil {
			t.Fatal(err)
		}
		env.As("sales").Do("GET", fmt.Sprintf("/quotes/%d", id), nil).Expect(t, http.StatusOK).JSON(t, &q)
	}
	if q.Discount != 1_500_000 || !q.NeedsApproval || q.Computed.AccessoryPrice != 298_000 || !q.Computed.Financed {
		t.Fatalf("saved quote: discount %d needs %v accessories %d financed %v", q.Discount, q.NeedsApproval, q.Computed.AccessoryPrice, q.Computed.Financed)
	}
	totalText := sales.Fen(q.Computed.Total).String()
	if got := s.textOf(sel("quote-detail-total")); got != totalText {
		s.fail("the detail total reads %q; the server's figure is %s", got, totalText)
	}
	s.click(sel("quote-submit"))
	s.waitText(sel("quote-status"), "审批中")
	s.waitVisible(sel("quote-approval-link"))
	waitToastsGone(s)
	s.shot("quote-submitted")

	// --- the sales manager approves on a phone ---
	m := b.newPage("manager-phone", phone375)
	m.storeClock(env.Clock.Now())
	signIn(m, base, "sales_manager")
	m.open(base, "/approvals/inbox")
	card := m.mark("the quote waits in the inbox", fmt.Sprintf(`[...document.querySelectorAll(%s)].find(el => el.innerText.includes(%s)) || null`,
		js(sel("approval-inbox-item")), js(q.Number)))
	m.shot("phone-inbox")
	m.click(card)
	m.waitText(sel("approval-title"), q.Number)
	m.waitVisible(sel("approval-approve"))
	if w := eval[int](m, `document.documentElement.scrollWidth`); w > 375 {
		m.fail("the approval page is %d px wide on a 375-px phone", w)
	}
	m.shot("phone-approval")
	m.click(sel("approval-approve"))
	m.waitText(sel("approval-status"), "通过")
	m.shot("phone-approved")
	// The store's quotes on the phone: cards, the approved one among them.
	m.open(base, "/sales/quotes")
	row := m.mark("the approved quote is listed", fmt.Sprintf(`[...document.querySelectorAll(%s)].find(el => el.innerText.includes(%s) && el.innerText.includes('已审批')) || null`,
		js(sel("quote-row")), js(q.Number)))
	if w := eval[int](m, `document.documentElement.scrollWidth`); w > 375 {
		m.fail("the quote list is %d px wide on a 375-px phone", w)
	}
	m.shot("phone-quote-list")
	m.click(row)
	m.waitText(sel("quote-status"), "已审批")
	if w := eval[int](m, `document.documentElement.scrollWidth`); w > 375 {
		m.fail("the quote page is %d px wide on a 375-px phone", w)
	}
	m.shot("phone-quote")

	// --- the consultant sees it approved, sends it, prints it ---
	s.open(base, fmt.Sprintf("/sales/quotes/%d", q.ID))
	s.waitText(sel("quote-status"), "已审批")
	s.waitText(sel("quote-approval-note"), "特价审批已通过")
	s.click(sel("quote-send"))
	s.waitText(sel("quote-status"), "已发送")
	waitToastsGone(s)
	s.shot("quote-approved-sent")

	p := b.newPage("print", a4)
	p.storeClock(env.Clock.Now())
	signIn(p, base, "sales")
	p.open(base, fmt.Sprintf("/print/quotes/%d", q.ID))
	p.waitText(sel("quote-print-total"), totalText)
	if got := p.textOf(sel("quote-print-capital")); got != sales.CapitalYuan(q.Computed.Total) {
		p.fail("the print's amount in words reads %q; want %s", got, sales.CapitalYuan(q.Computed.Total))
	}
	if p.present(sel("quote-watermark")) {
		p.fail("the approved, sent quote prints with a watermark: %q", p.textOf(sel("quote-watermark")))
	}
	text := p.textOf(sel("quote-print"))
	for _, want := range []string{"汽车销售报价单", q.Number, custName, "139****0301", "凯美瑞", "新车护理套餐", "¥2,980.00", "车辆购置税",
		sales.Fen(q.Computed.MonthlyPayment).String(), "中国工商银行", "客户确认", st.Letterhead.StoreName} {
		if !strings.Contains(text, want) {
			p.fail("the print lacks %q", want)
		}
	}
	if strings.Contains(text, custPhone) {
		p.fail("the print shows the full phone number")
	}
	if p.present(`[data-test="app-header"]`) {
		p.fail("the print view shows the app's header")
	}
	p.shot("print-a4")
	// As the printer sees it: the toolbar is gone.
	ctx, cancel := context.WithTimeout(p.tab, 10*time.Second)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		cancel()
		t.Fatalf("emulate print media: %v", err)
	}
	cancel()
	if eval[bool](p, fmt.Sprintf(`(%s)(document.querySelector(%s))`, visibleJS, js(sel("quote-print-button")))) {
		p.fail("the print button shows on paper")
	}
	// The printable area of A4 with 12 mm margins: 186 × 273 mm at 96 dpi.
	p.do("the viewport of an A4 page's printable area", chromedp.EmulateViewport(703, 1032))
	p.shot("print-a4-media-print")
	// Printed to PDF the way the browser's print dialog does it (the page's @page
	// size and margins), the quote is one A4 page.
	ctx, cancel = context.WithTimeout(p.tab, 20*time.Second)
	pdf, err := chromedp.Call(ctx, cdpage.PrintToPDF, cdpage.PrintToPDFParams{PreferCSSPageSize: ptr(true)})
	cancel()
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	pdfPath := filepath.Join(artifactsDir(t), t.Name()+"-quote.pdf")
	if err := os.WriteFile(pdfPath, pdf.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf.Data, -1)); n != 1 {
		t.Errorf("the printed quote has %d pages (%s); want one A4 page", n, pdfPath)
	}
	if !regexp.MustCompile(`/MediaBox \[0 0 59[45][.\d]* 84[12][.\d]*\]`).Match(pdf.Data) {
		t.Errorf("the printed quote is not A4 (595 × 842 pt): %s", pdfPath)
	}
	t.Logf("printed: %s", pdfPath)

	// A draft over the limit prints with the watermark.
	var d sales.QuoteDoc
	env.As("sales").Do("POST", "/quotes", map[string]any{"customerId": lead.CustomerID, "modelId": modelID, "discount": 1_600_000}).Expect(t, http.StatusCreated).JSON(t, &d)
	if _, err := chromedp.Call(p.tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""}); err != nil {
		t.Fatal(err)
	}
	p.do("back to the screen viewport", chromedp.EmulateViewport(a4.w, a4.h))
	p.open(base, fmt.Sprintf("/print/quotes/%d", d.ID))
	p.waitText(sel("quote-watermark"), "待审批")
	p.shot("print-a4-pending-watermark")

	// The general manager's quote settings show the limits and the letterhead set above.
	g := b.newPage("gm", desktop)
	g.storeClock(env.Clock.Now())
	signIn(g, base, "gm")
	g.click(sel("menu-quote-settings"))
	g.waitPath("/sales/quote-settings")
	g.waitJS("the settings are loaded", fmt.Sprintf(`(() => { const i = document.querySelector(%s); return !!i && i.value === '20000' })()`,
		js(sel("quote-settings-max-discount")+" input")))
	if !eval[bool](g, fmt.Sprintf(`[...document.querySelectorAll('input')].some(i => i.value === %s)`, js(st.Letterhead.BankAccount))) {
		g.fail("the settings page does not show the bank account")
	}
	g.shot("quote-settings")
}

func ptr[T any](v T) *T { return &v }
