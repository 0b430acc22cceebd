package e2e_test

// The CRM journeys: a lead typed on a phone reaching a consultant's workbench, a
// spreadsheet import with its report, a lost request approved on a phone, and
// the manager's filtered customer list saved as a view and exported.
// Set-up the journey is not about (assignment rules, a consultant's customer)
// goes through the API first; what the journey is about goes through the UI and
// is then checked in the database.

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
)

var shanghai = mustLoadLocation("Asia/Shanghai")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// TestJourney_LeadOnPhoneAssignedToWorkbench: a DCC agent types a lead from 汽车之家
// on a phone; the store's rule hands it to a consultant, who finds it on the
// workbench with its first-contact deadline, reveals the number, calls and writes
// the follow-up with the next step.
func TestJourney_LeadOnPhoneAssignedToWorkbench(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	addTeamRule(t, env)
	base := env.Server.URL
	b := newBrowser(t)

	const (
		typedPhone = "+86 139-0571-2345"
		phoneNo    = "13905712345"
		custName   = "陈思远"
	)

	// --- the DCC agent, on a phone ---
	d := b.newPage("dcc-phone", phone)
	d.storeClock(env.Clock.Now())
	signIn(d, base, "dcc")
	d.open(base, "/crm/leads/new")
	d.fill("lead-phone", typedPhone)
	d.fill("lead-name", custName)
	d.click(sel("lead-channel-autohome"))
	d.waitJS("汽车之家 is picked", fmt.Sprintf(`document.querySelector(%s).getAttribute('aria-checked') === 'true'`, js(sel("lead-channel-autohome"))))
	checkNoHorizontalScroll(d, "the quick lead form")
	d.shot("lead-form-filled")
	d.submit("lead-submit", "the lead is saved", fmt.Sprintf(`!!document.querySelector(%s)`, js(sel("lead-outcome"))))

	var (
		custID, ownerID    int64
		ownerUser, ownerNm string
		channel, slaKind   string
		slaDue             sql.NullInt64
	)
	err := env.App.DB.R.QueryRow(`SELECT c.id, c.owner_id, u.username, u.name, c.channel, c.sla_kind, c.sla_due_at
		FROM customer c JOIN app_user u ON u.id = c.owner_id WHERE c.phone = ? AND c.name = ?`, phoneNo, custName).
		Scan(&custID, &ownerID, &ownerUser, &ownerNm, &channel, &slaKind, &slaDue)
	if err != nil {
		d.fail("the lead typed on the phone is not an assigned customer %s %s in the database: %v", custName, phoneNo, err)
	}
	if channel != "autohome" || slaKind != "first_contact" || !slaDue.Valid {
		t.Errorf("customer %d: channel %q, sla %q due %v; want autohome with a first-contact deadline", custID, channel, slaKind, slaDue)
	}
	outcome := strings.TrimSpace(d.textOf(sel("lead-outcome")))
	if !strings.Contains(outcome, "新客户已创建") || !(strings.Contains(outcome, ownerNm) || strings.Contains(outcome, "分给顾问")) {
		d.fail("after saving, the page says %q; want that the customer was created and assigned (to %s)", outcome, ownerNm)
	}
	t.Logf("the rule gave %s to %s (%s); the DCC page says %q", custName, ownerNm, ownerUser, outcome)
	checkNoHorizontalScroll(d, "the lead outcome")
	d.shot("lead-saved")

	// --- the consultant the rule chose, on their phone ---
	m := b.newPage("consultant-phone", phone)
	m.storeClock(env.Clock.Now())
	signIn(m, base, ownerUser)
	m.waitVisible(sel("workbench"))
	row := fmt.Sprintf(`%s %s[data-id="%d"]`, sel("wb-section-new"), sel("wb-row-new"), custID)
	m.waitText(row, custName)
	due := time.UnixMilli(slaDue.Int64).In(shanghai)
	deadline := strings.Join(strings.Fields(m.textOf(row+" "+sel("wb-deadline"))), " ")
	if !strings.Contains(deadline, "剩") || !strings.Contains(deadline, due.Format("15:04")+" 前联系") {
		m.fail("the workbench row of %s shows the deadline %q; want the time left and %s 前联系", custName, deadline, due.Format("15:04"))
	}
	if n := m.textOf(sel("wb-counter-new")); !strings.Contains(n, "1") {
		m.fail("the 新线索待联系 counter says %q, want 1", n)
	}
	checkNoHorizontalScroll(m, "the workbench")
	m.shot("workbench-new-lead")

	m.click(row)
	m.waitPath(fmt.Sprintf("/crm/customers/%d", custID))
	m.waitText(sel("customer-name"), custName)
	masked := m.textOf(sel("customer-phone"))
	if !strings.Contains(masked, "*") || strings.Contains(masked, phoneNo) || !strings.HasSuffix(strings.TrimSpace(masked), "2345") {
		m.fail("the customer page shows the phone as %q; want it masked (139****2345)", masked)
	}
	if next := m.textOf(sel("customer-next")); !strings.Contains(next, due.Format("15:04")) {
		m.fail("the customer page shows the first-contact deadline as %q; want %s", next, due.Format("2006-01-02 15:04"))
	}
	checkNoHorizontalScroll(m, "the customer page")
	m.shot("customer-masked")

	m.click(sel("customer-reveal"))
	m.waitVisible(sel("customer-tel"))
	if tel := digits(m.textOf(sel("customer-tel"))); tel != phoneNo {
		m.fail("after 显示 the phone reads %q, want %s", tel, phoneNo)
	}
	if href := eval[string](m, fmt.Sprintf(`document.querySelector(%s).getAttribute('href')`, js(sel("customer-tel")))); !strings.HasSuffix(href, phoneNo) {
		m.fail("the revealed phone links to %q; want a tel: link to dial it", href)
	}
	var reveals int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'reveal' AND entity = 'customer' AND entity_id = ? AND user_id = ?`,
		fmt.Sprint(custID), ownerID).Scan(&reveals)
	if reveals != 1 {
		t.Errorf("audit rows for revealing customer %d by %s: %d, want 1", custID, ownerUser, reveals)
	}
	checkNoHorizontalScroll(m, "the customer page with the phone revealed")
	m.shot("customer-phone-revealed")

	// The call went through: the follow-up and the next step.
	const (
		content  = "电话联系，客户关注凯美瑞双擎的油耗，想周末带家人来看车。"
		nextStep = "周四上午回电，约周末到店试驾"
	)
	m.click(sel("customer-followup"))
	m.waitVisible(sel("followup-submit"))
	m.click(sel("followup-result-invited"))
	m.fill("followup-content", content)
	m.fill("followup-next-step", nextStep)
	m.click(sel("followup-preset-in3"))
	m.waitVisible(sel("followup-remind"))
	checkNoHorizontalScroll(m, "the follow-up form")
	m.shot("followup-form")
	m.click(sel("followup-submit"))
	m.waitUnless("the follow-up is on the timeline", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.dataset.kind === 'followup' && e.innerText.includes(%s))`,
		js(sel("timeline-item")), js(nextStep)), formErrorJS)
	m.waitJS("the drawer closed", fmt.Sprintf(`!(%s)(document.querySelector(%s))`, visibleJS, js(sel("followup-submit"))))

	var (
		fContent, fResult, fStep string
		fNextAt, fTask           sql.NullInt64
		firstContact             sql.NullInt64
	)
	err = env.App.DB.R.QueryRow(`SELECT f.content, f.result, f.next_step, f.next_at, f.task_id, c.first_contact_at
		FROM followup f JOIN customer c ON c.id = f.customer_id WHERE f.customer_id = ? AND f.user_id = ?`, custID, ownerID).
		Scan(&fContent, &fResult, &fStep, &fNextAt, &fTask, &firstContact)
	if err != nil {
		t.Fatalf("the follow-up written on the phone is not in the database: %v", err)
	}
	if fContent != content || fResult != "invited" || fStep != nextStep || !fNextAt.Valid || !fTask.Valid || !firstContact.Valid {
		t.Errorf("follow-up: content %q result %s step %q next %v task %v first contact %v", fContent, fResult, fStep, fNextAt, fTask, firstContact)
	}
	if fNextAt.Valid {
		want := env.Clock.Now().In(shanghai).AddDate(0, 0, 3)
		if got := time.UnixMilli(fNextAt.Int64).In(shanghai); got.Format("2006-01-02 15:04") != want.Format("2006-01-02")+" 10:00" {
			t.Errorf("the 3 天后 preset set the next follow-up to %s, want %s 10:00", got.Format("2006-01-02 15:04"), want.Format("2006-01-02"))
		}
	}
	m.waitJS("the header shows the next follow-up", fmt.Sprintf(`!document.querySelector(%s).innerText.includes(%s)`, js(sel("customer-next")), js(due.Format("15:04"))))
	checkNoHorizontalScroll(m, "the customer page after the follow-up")
	m.waitJS("the toast is gone", fmt.Sprintf(`![...document.querySelectorAll('.el-message')].some(%s)`, visibleJS))
	m.shot("customer-after-followup")
}

// TestJourney_ImportSheet: the sales manager imports a spreadsheet of leads from
// a car show: the columns are recognized by their Chinese headers, the import
// runs to the end, the report names each row not imported and why, and the
// imported customers are on the customer list.
func TestJourney_ImportSheet(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	addTeamRule(t, env)
	base := env.Server.URL

	sheet := carShowSheet(t)
	b := newBrowser(t)
	p := b.newPage("desktop", desktop)
	p.storeClock(env.Clock.Now())
	signIn(p, base, "sales_manager")
	p.open(base, "/crm/import")
	p.waitVisible(sel("import-file"))
	p.shot("import-upload")
	p.do("choose the sheet", chromedp.SetUploadFiles(chromedp.CSS(sel("import-file")+` input[type=file]`), []string{sheet.path}))
	p.waitUnless("the sheet is read and its columns shown", fmt.Sprintf(`!!document.querySelector(%s)`, js(sel("import-field-4"))),
		fmt.Sprintf(`(document.querySelector(%s) || {}).innerText`, js(sel("import-upload-error"))))
	p.waitText(sel("import-mapping"), fmt.Sprintf("共 %d 行数据", len(sheet.rows)))

	// The suggested mapping follows the headers.
	for i, want := range []string{"姓名", "手机号", "来源", "意向车系", "备注"} {
		hook := fmt.Sprintf("import-field-%d", i)
		got := eval[string](p, fmt.Sprintf(`(() => { const s = document.querySelector(%s); return s ? s.innerText.trim() : '' })()`, js(sel(hook))))
		if got != want {
			p.fail("column %d (%s) is suggested as %q, want %q", i, carShowHeaders[i], got, want)
		}
	}
	p.shot("import-mapping")
	p.click(sel("import-start"))
	p.waitUnless("the import is done", fmt.Sprintf(`(() => { const s = document.querySelector(%s); return s && s.innerText.includes('已完成') })()`, js(sel("import-status"))),
		fmt.Sprintf(`(document.querySelector(%s) || {}).innerText || ([...document.querySelectorAll('.el-tag')].find(e => /失败|已取消/.test(e.innerText)) || {}).innerText`, js(sel("import-error"))))

	var (
		jobID                               int64
		status                              string
		total, created, attached, rejectedN int
	)
	if err := env.App.DB.R.QueryRow(`SELECT id, status, total, created, attached, rejected FROM import_job ORDER BY id DESC LIMIT 1`).
		Scan(&jobID, &status, &total, &created, &attached, &rejectedN); err != nil {
		t.Fatalf("the import job is not in the database: %v", err)
	}
	wantCreated := len(sheet.rows) - len(sheet.bad)
	if status != "done" || total != len(sheet.rows) || created != wantCreated || attached != 0 || rejectedN != len(sheet.bad) {
		t.Errorf("import job %d: %s total %d created %d attached %d rejected %d; want done %d %d 0 %d",
			jobID, status, total, created, attached, rejectedN, len(sheet.rows), wantCreated, len(sheet.bad))
	}
	for hook, want := range map[string]string{"import-created": fmt.Sprint(wantCreated), "import-attached": "0", "import-rejected": fmt.Sprint(len(sheet.bad))} {
		if got := strings.Fields(p.textOf(sel(hook))); len(got) == 0 || got[0] != want {
			p.fail("the report's %s shows %q, want %s", hook, p.textOf(sel(hook)), want)
		}
	}
	if s := p.textOf(sel("import-rejected")); !strings.Contains(s, "其中表内重复 1 行") {
		p.fail("the rejected counter says %q; want it to name the 1 duplicate", s)
	}

	// Each rejected row, with its sheet row number and the reason in Chinese.
	p.waitJS("the report lists the rejected rows", fmt.Sprintf(`document.querySelectorAll(%s).length === %d`, js(sel("import-report-row")), len(sheet.bad)))
	rows := eval[[]string](p, fmt.Sprintf(`[...document.querySelectorAll(%s)].map(r => r.innerText.replace(/\s+/g, ' ').trim())`, js(sel("import-report-row"))))
	codeLike := regexp.MustCompile(`[a-z]+[._][a-z_]+`)
	for _, bad := range sheet.bad {
		var line string
		for _, r := range rows {
			if strings.HasPrefix(r, fmt.Sprint(bad.sheetRow)+" ") {
				line = r
			}
		}
		if line == "" {
			p.fail("the report has no line for sheet row %d (%s); lines:\n%s", bad.sheetRow, bad.why, strings.Join(rows, "\n"))
		}
		if !strings.Contains(line, bad.reason) || !strings.Contains(line, bad.name) || codeLike.MatchString(line) {
			p.fail("the report line of sheet row %d reads %q; want the reason %q in Chinese and the row's values", bad.sheetRow, line, bad.reason)
		}
	}
	p.shot("import-report")

	// What the database holds: the good rows as customers with their channel and
	// series, owned by the sales team; nothing from the rejected rows.
	var n, owned, autohome, camry int
	env.App.DB.R.QueryRow(`SELECT count(*), count(c.owner_id), sum(c.channel = 'autohome'), sum(s.name = '凯美瑞')
		FROM lead l JOIN customer c ON c.id = l.customer_id LEFT JOIN vehicle_series s ON s.id = c.series_id
		WHERE l.import_job_id = ? AND l.outcome = 'new'`, jobID).Scan(&n, &owned, &autohome, &camry)
	if n != wantCreated || owned != wantCreated || autohome != sheet.autohome || camry != sheet.camry {
		t.Errorf("customers of the import: %d (%d owned, %d 汽车之家, %d 凯美瑞); want %d (%d owned, %d, %d)",
			n, owned, autohome, camry, wantCreated, wantCreated, sheet.autohome, sheet.camry)
	}
	for _, bad := range sheet.bad {
		var k int
		env.App.DB.R.QueryRow(`SELECT count(*) FROM customer WHERE name = ?`, bad.name).Scan(&k)
		if k != 0 {
			t.Errorf("the rejected row %d (%s) made a customer", bad.sheetRow, bad.name)
		}
	}

	// The customer list finds an imported customer by name.
	look := sheet.rows[5]
	p.open(base, "/crm/customers")
	p.waitVisible(sel("customers-table"))
	p.fill("customers-q", look.name)
	p.waitJS("the list shows "+look.name, fmt.Sprintf(`(() => { const rows = [...document.querySelectorAll(%s)];
		return rows.length === 1 && rows[0].innerText.includes(%s) && rows[0].innerText.includes(%s) })()`,
		js(sel("customer-row")), js(look.name), js(look.phone[len(look.phone)-4:])))
	p.waitText(sel("customers-total"), "共 1 条")
	p.shot("customers-search-imported")
}

// TestJourney_LostRequestApprovedOnPhone: a consultant asks to mark a customer as
// lost (bought a competitor); the sales manager approves it on a phone; the
// customer is then lost, and the timeline tells the whole story.
func TestJourney_LostRequestApprovedOnPhone(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL
	const (
		custName = "郑国强"
		brand    = "比亚迪"
		note     = "客户已在比亚迪店订了宋PLUS，价格比我们低两万。"
		comment  = "同意，竞品价格确实有优势，下季度活动时再联系。"
	)
	var lead struct {
		CustomerID int64 `json:"customerId"`
	}
	env.As("sales").Do("POST", "/leads", map[string]any{"phone": "13858123456", "name": custName, "channel": "walk_in", "assign": "me"}).
		Expect(t, http.StatusCreated).JSON(t, &lead)
	custPath := fmt.Sprintf("/crm/customers/%d", lead.CustomerID)

	b := newBrowser(t)
	s := b.newPage("consultant", desktop)
	s.storeClock(env.Clock.Now())
	signIn(s, base, "sales")
	s.open(base, custPath)
	s.waitText(sel("customer-name"), custName)
	s.click(sel("customer-more"))
	s.click(sel("customer-lost"))
	s.waitVisible(sel("lost-submit"))
	s.click(sel("lost-reason-bought_competitor"))
	s.fill("lost-brand", brand)
	s.fill("lost-note", note)
	s.shot("lost-request-form")
	s.submit("lost-submit", "the pending banner shows", fmt.Sprintf(`!!document.querySelector(%s)`, js(sel("customer-lost-pending"))))
	s.waitVisible(sel("customer-lost-approval"))
	s.waitText(sel("customer-lost-pending"), "审批中")
	s.waitJS("the toast is gone", fmt.Sprintf(`![...document.querySelectorAll('.el-message')].some(%s)`, visibleJS))
	s.shot("lost-request-pending")

	var (
		instID              int64
		reqStatus, reason   string
		lostBrand, instStat string
	)
	err := env.App.DB.R.QueryRow(`SELECT r.status, r.reason, r.brand, a.id, a.status FROM lost_request r
		JOIN approval_instance a ON a.doc_type = 'crm.lost' AND a.doc_id = r.id WHERE r.customer_id = ?`, lead.CustomerID).
		Scan(&reqStatus, &reason, &lostBrand, &instID, &instStat)
	if err != nil {
		t.Fatalf("the lost request is not in the database with its approval: %v", err)
	}
	if reqStatus != "pending" || reason != "bought_competitor" || lostBrand != brand || instStat != "pending" {
		t.Errorf("lost request: %s %s %q, approval %s; want pending bought_competitor %q pending", reqStatus, reason, lostBrand, instStat, brand)
	}

	// --- the sales manager, on a phone ---
	m := b.newPage("manager-phone", phone)
	m.storeClock(env.Clock.Now())
	signIn(m, base, "sales_manager")
	m.click(sel("tab-approvals"))
	m.waitPath("/approvals/inbox")
	card := m.mark("the inbox shows the request for "+custName, fmt.Sprintf(`[...document.querySelectorAll(%s)].find(c => c.innerText.includes(%s)) || null`,
		js(sel("approval-inbox-item")), js(custName)))
	if txt := m.textOf(card); !strings.Contains(txt, "战败申请") || !strings.Contains(txt, "已购竞品") {
		m.fail("the inbox card reads %q; want the type 战败申请 and the reason 已购竞品", txt)
	}
	checkNoHorizontalScroll(m, "the approval inbox")
	m.shot("approval-inbox")
	m.click(card)
	m.waitPath(fmt.Sprintf("/approvals/%d", instID))
	m.waitText(sel("approval-status"), "审批中")
	m.waitText(sel("approval-head"), custName)
	m.waitVisible(sel("approval-approve"))
	checkNoHorizontalScroll(m, "the approval detail")
	m.shot("approval-detail")
	typeInto(m, `textarea`+sel("approval-comment")+`, `+sel("approval-comment")+` textarea`, comment)
	m.click(sel("approval-approve"))
	m.waitUnless("the approval is approved", fmt.Sprintf(`document.querySelector(%s).innerText.includes('已通过')`, js(sel("approval-status"))), formErrorJS)
	m.waitText(sel("approval-history"), comment)
	checkNoHorizontalScroll(m, "the approved approval")
	m.shot("approval-approved")

	var custStatus, custReason, custBrand string
	env.App.DB.R.QueryRow(`SELECT r.status, c.status, c.lost_reason, c.lost_brand FROM customer c JOIN lost_request r ON r.customer_id = c.id WHERE c.id = ?`,
		lead.CustomerID).Scan(&reqStatus, &custStatus, &custReason, &custBrand)
	if reqStatus != "approved" || custStatus != "lost" || custReason != "bought_competitor" || custBrand != brand {
		t.Errorf("after the approval: request %s, customer %s %s %q; want approved, lost bought_competitor %q", reqStatus, custStatus, custReason, custBrand, brand)
	}

	// --- back at the consultant's desk ---
	s.open(base, custPath)
	s.waitText(sel("customer-status"), "战败")
	if s.present(sel("customer-lost-pending")) {
		s.fail("the customer page still says the lost request is pending")
	}
	for kind, label := range map[string]string{"approval.submitted": "提交审批", "approval.approved": "审批通过", "customer.lost": "战败"} {
		s.waitJS("the timeline lists "+kind, fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.dataset.kind === %s && e.innerText.includes(%s))`,
			js(sel("timeline-item")), js(kind), js(label)))
	}
	s.waitJS("the timeline shows the manager's comment", fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.innerText.includes(%s))`, js(sel("timeline-item")), js(comment)))
	s.shot("customer-lost")
}

// TestJourney_CustomerListFiltersAndExport: the sales manager looks for the hot
// customers nobody called in time: filters the store's list by grade H and
// overdue, saves that as a view, finds it again after clearing the filters,
// and exports exactly those customers to Excel.
func TestJourney_CustomerListFiltersAndExport(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	base := env.Server.URL

	// Leads from 汽车之家 the consultants took themselves; some were called.
	var colleague string
	if err := env.App.DB.R.QueryRow(`SELECT u.username FROM app_user u JOIN role r ON r.id = u.role_id
		WHERE r.code = 'sales' AND u.store_id = 1 AND u.username <> 'sales' ORDER BY u.id LIMIT 1`).Scan(&colleague); err != nil {
		t.Fatalf("a second consultant of store 1: %v", err)
	}
	type seed struct {
		who, name, phone, grade string
		called                  bool
	}
	seeds := []seed{
		{"sales", "周子轩", "13957100101", "H", false},
		{"sales", "吴梓涵", "13957100102", "H", false},
		{"sales", "钱雨桐", "13957100103", "H", true},
		{"sales", "孙浩宇", "13957100104", "A", false},
		{"sales", "李一诺", "13957100105", "A", true},
		{"sales", "冯可欣", "13957100106", "B", false},
		{colleague, "蒋天佑", "13957100107", "H", false},
	}
	var wantNames []string
	for _, s := range seeds {
		c := env.As(s.who)
		var lead struct {
			CustomerID int64 `json:"customerId"`
		}
		c.Do("POST", "/leads", map[string]any{"phone": s.phone, "name": s.name, "channel": "autohome", "grade": s.grade, "assign": "me"}).
			Expect(t, http.StatusCreated).JSON(t, &lead)
		if s.called {
			next := env.Clock.Now().Add(48 * time.Hour).UnixMilli()
			c.Do("POST", fmt.Sprintf("/customers/%d/followups", lead.CustomerID), map[string]any{"method": "phone", "result": "reached",
				"content": "已电话沟通，约后天再联系", "nextStep": "回电", "nextAt": next}).Expect(t, http.StatusCreated)
		} else if s.grade == "H" {
			wantNames = append(wantNames, s.name)
		}
	}
	// The first-contact deadline (15 minutes) passes for the ones nobody called.
	env.Clock.Advance(30 * time.Minute)

	b := newBrowser(t)
	p := b.newPage("desktop", desktop)
	p.storeClock(env.Clock.Now())
	downloads := t.TempDir()
	ctx, cancel := p.ctx()
	_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, BrowserContextID: chromedp.FromContext(p.tab).BrowserContextID})
	cancel()
	if err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	signIn(p, base, "sales_manager")
	p.open(base, "/crm/customers")
	p.waitText(sel("customers-total"), fmt.Sprintf("共 %d 条", len(seeds)))

	pickMulti(p, "customers-filter-grade", "H 级")
	p.waitText(sel("customers-total"), "共 4 条")
	p.click(sel("customers-filter-overdue"))
	p.waitText(sel("customers-total"), fmt.Sprintf("共 %d 条", len(wantNames)))
	p.waitJS("the list shows only the overdue H customers", fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll(%s)].map(r => r.innerText);
		const want = %s;
		return rows.length === want.length && want.every(n => rows.some(r => r.includes(n))) && rows.every(r => /超时|逾期/.test(r)) })()`,
		js(sel("customer-row")), jsList(wantNames)))
	p.shot("customers-filtered")

	// Save the filters as a view.
	const viewName = "H级超时未联系"
	p.click(sel("views-menu"))
	p.click(sel("views-save"))
	p.fill("views-name", viewName)
	p.click(sel("views-save-submit"))
	p.waitUnless("the view is saved", fmt.Sprintf(`document.querySelector(%s).innerText.includes(%s)`, js(sel("views-menu")), js(viewName)), formErrorJS)
	var query string
	if err := env.App.DB.R.QueryRow(`SELECT query FROM saved_view WHERE name = ? AND user_id = ? AND page = 'customers'`, viewName, env.UserID("sales_manager")).Scan(&query); err != nil {
		t.Fatalf("the saved view is not in the database: %v", err)
	}
	if !strings.Contains(query, `"H"`) || !strings.Contains(query, `"overdue":true`) {
		t.Errorf("the saved view holds %s; want grade H and overdue", query)
	}

	// Clear the filters, then bring them back with the view.
	p.click(sel("customers-reset"))
	p.waitText(sel("customers-total"), fmt.Sprintf("共 %d 条", len(seeds)))
	p.click(sel("views-menu"))
	item := p.mark("the saved view is in the menu", fmt.Sprintf(`[...document.querySelectorAll(%s)].find(e => e.innerText.includes(%s) && (%s)(e)) || null`,
		js(sel("views-item")), js(viewName), visibleJS))
	p.click(item)
	p.waitText(sel("customers-total"), fmt.Sprintf("共 %d 条", len(wantNames)))
	if !eval[bool](p, fmt.Sprintf(`document.querySelector(%s + ' input[type=checkbox]').checked`, js(sel("customers-filter-overdue")))) {
		p.fail("the view brought the grade back but not 只看超时")
	}
	p.waitJS("the toast is gone", fmt.Sprintf(`![...document.querySelectorAll('.el-message')].some(%s)`, visibleJS))
	p.shot("customers-view-applied")

	// Export what is shown.
	p.click(sel("customers-export"))
	file := waitDownload(p, downloads, ".xlsx")
	f, err := excelize.OpenFile(file)
	if err != nil {
		t.Fatalf("open the export %s: %v", file, err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	all := ""
	for _, r := range rows[1:] {
		all += strings.Join(r, "|") + "\n"
		for _, s := range seeds {
			if slices.Contains(r, s.name) {
				got = append(got, s.name)
			}
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(wantNames))
	if len(rows) == 0 || !slices.Contains(rows[0], "姓名") || !slices.Equal(got, want) {
		t.Errorf("the export %s holds %v, want the filtered %v:\n%s", filepath.Base(file), got, want, all)
	}
	// A manager may reveal phones: the export has them in full, and the audit
	// row says so.
	if !strings.Contains(all, "13957100101") {
		t.Errorf("the manager's export masks the phones:\n%s", all)
	}
	var after string
	env.App.DB.R.QueryRow(`SELECT COALESCE(after_json, '') FROM audit_log WHERE action = 'export' AND entity = 'customer' AND user_id = ?`, env.UserID("sales_manager")).Scan(&after)
	if !strings.Contains(after, `"fullPhones":true`) || !strings.Contains(after, `"overdue":true`) {
		t.Errorf("the export's audit row: %q; want the filter and fullPhones", after)
	}
	t.Logf("export %s: %d rows", filepath.Base(file), len(rows))
	p.shot("customers-exported")
}

// --- helpers ---

// signIn signs a demo user in on the page and waits for the app's shell.
func signIn(p *page, base, login string) {
	p.t.Helper()
	p.open(base, "/login")
	p.fill("login-login", login)
	p.fill("login-password", demo.Password)
	p.submit("login-submit", login+" is signed in", `location.pathname !== '/login' && !!document.querySelector('[data-test="app-header"]')`)
}

// typeInto is fill for an input found by a CSS selector (an el-input that puts
// its data-test on the textarea itself rather than on a wrapper).
func typeInto(p *page, css, text string) {
	p.t.Helper()
	el := p.mark("the field "+css+" is shown", fmt.Sprintf(`[...document.querySelectorAll(%s)].find(%s) || null`, js(css), visibleJS))
	p.click(el)
	ctx, cancel := p.ctx()
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.focus(); el.select(); })()`, js(el))))
	if err == nil {
		_, err = chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text})
	}
	if err != nil {
		p.fail("type into %s: %v", css, err)
	}
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%s).value`, js(el))); got != text {
		p.fail("type into %s: the field holds %q, want %q", css, got, text)
	}
}

// addTeamRule gives every new lead of store 1 to its 销售部 in turn, as the sales
// manager would set it up.
func addTeamRule(t *testing.T, env *apptest.Env) {
	t.Helper()
	var dept int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM department WHERE store_id = 1 AND name = '销售部'`).Scan(&dept); err != nil {
		t.Fatalf("store 1's 销售部: %v", err)
	}
	env.As("sales_manager").Do("POST", "/assign-rules", map[string]any{"name": "全部线索", "enabled": true, "targetKind": "team",
		"departmentId": dept, "strategy": "round_robin"}).Expect(t, http.StatusCreated)
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// pickMulti chooses an option of a multiple el-select (whose dropdown stays open)
// and closes the dropdown.
func pickMulti(p *page, hook, label string) {
	p.t.Helper()
	wrapper := p.mark("the select "+hook+" is shown", fmt.Sprintf(`(() => {
		const root = document.querySelector(%s); if (!root) return null;
		const s = root.matches('.el-select') ? root : root.querySelector('.el-select'); if (!s) return null;
		const w = s.querySelector('.el-select__wrapper') || s;
		return (%s)(w) ? w : null })()`, js(sel(hook)), visibleJS))
	p.click(wrapper)
	item := p.mark(fmt.Sprintf("the option %q of %s is shown", label, hook), fmt.Sprintf(`[...document.querySelectorAll('.el-select-dropdown__item')]
		.find(li => li.textContent.trim() === %s && (%s)(li)) || null`, js(label), visibleJS))
	p.click(item)
	p.waitJS(fmt.Sprintf("%s shows %q", hook, label), fmt.Sprintf(`document.querySelector(%s).innerText.includes(%s)`, js(sel(hook)), js(label)))
	p.click(wrapper)
	p.waitJS("the dropdown of "+hook+" closed", fmt.Sprintf(`![...document.querySelectorAll('.el-select__popper')].some(%s)`, visibleJS))
}

// waitDownload waits until the browser has saved a file with the extension in dir.
func waitDownload(p *page, dir, ext string) string {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(dir, "*"+ext)); len(m) == 1 {
			return m[0]
		}
		time.Sleep(100 * time.Millisecond) // polling the file system, not a timing guess
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*"))
	p.fail("no %s file was downloaded to %s; there is: %v", ext, dir, m)
	return ""
}

func jsList(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

// --- the car-show sheet ---

var carShowHeaders = []string{"姓名", "手机号", "来源", "意向车型", "备注"}

type sheetRow struct{ name, phone, source, series, note string }

type badRow struct {
	sheetRow int    // the row number in the sheet (the header is row 1)
	name     string // the name in that row
	reason   string // what the report must say
	why      string // for failure messages
}

type carShow struct {
	path            string
	rows            []sheetRow
	bad             []badRow
	autohome, camry int // rows imported with these values
}

// carShowSheet writes an .xlsx like one a store brings back from a car show:
// 30 rows, two with a wrong phone number and one repeating an earlier phone.
func carShowSheet(t *testing.T) carShow {
	t.Helper()
	names := []string{"王建华", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "黄晓东", "赵丽", "吴涛", "周海燕",
		"徐明", "孙丹", "马俊杰", "朱文", "胡欣怡", "郭鹏", "何雨涵", "高志强", "林子涵", "罗思远",
		"郑浩然", "梁红", "谢宇轩", "宋梓萱", "唐建国", "许娟", "韩磊", "冯艳", "邓超", "曹敏"}
	sources := []string{"汽车之家", "懂车帝", "易车", "车展", "抖音"}
	series := []string{"凯美瑞", "RAV4荣放", "卡罗拉"}
	var cs carShow
	for i, n := range names {
		r := sheetRow{name: n, phone: fmt.Sprintf("137%08d", 57120000+i*37), source: sources[i%len(sources)], series: series[i%len(series)],
			note: "车展登记，" + []string{"想看混动", "关注置换补贴", "预算二十万左右", "带家人试驾"}[i%4]}
		cs.rows = append(cs.rows, r)
	}
	// Row 8: a digit short; row 16: no such mobile prefix; row 23: the phone of row 4.
	cs.rows[6].phone = "1375712004"
	cs.rows[14].phone = "12857120518"
	cs.rows[21].phone = cs.rows[2].phone
	cs.bad = []badRow{
		{sheetRow: 8, name: cs.rows[6].name, reason: "手机号：电话号码位数不够", why: "a digit short"},
		{sheetRow: 16, name: cs.rows[14].name, reason: "手机号：手机号格式不正确", why: "no such mobile prefix"},
		{sheetRow: 23, name: cs.rows[21].name, reason: "与第 4 行的手机号重复", why: "the phone of row 4"},
	}
	for i, r := range cs.rows {
		if i == 6 || i == 14 || i == 21 {
			continue
		}
		if r.source == "汽车之家" {
			cs.autohome++
		}
		if r.series == "凯美瑞" {
			cs.camry++
		}
	}

	f := excelize.NewFile()
	defer f.Close()
	const tab = "Sheet1"
	// Phones as text, the way a careful person formats the column (no 1.37E+10).
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetColStyle(tab, "B", text); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow(tab, "A1", &carShowHeaders); err != nil {
		t.Fatal(err)
	}
	for i, r := range cs.rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(tab, cell, &[]any{r.name, r.phone, r.source, r.series, r.note}); err != nil {
			t.Fatal(err)
		}
	}
	cs.path = filepath.Join(t.TempDir(), "11月车展登记.xlsx")
	if err := f.SaveAs(cs.path); err != nil {
		t.Fatal(err)
	}
	return cs
}
