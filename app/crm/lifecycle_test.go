package crm_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"dealerdesk/app/apptest"
	"dealerdesk/app/crm"
)

func TestFollowup_NextStepBecomesATaskWithOneReminder(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	c := postLead(t, s, map[string]any{"phone": "18600001111", "channel": "phone", "assign": "me", "name": "王芳"})
	next := env.Clock.Now().Add(48 * time.Hour).UnixMilli()
	var f crm.Followup
	s.Do("POST", fmt.Sprintf("/customers/%d/followups", c.CustomerID), map[string]any{
		"method": "phone", "content": "客户对凯美瑞感兴趣，想周末试驾", "result": "invited", "grade": "H",
		"nextStep": "周六邀约试驾", "nextAt": next, "remindMinutes": 60}).Expect(t, http.StatusCreated).JSON(t, &f)
	if f.TaskID == nil || f.Grade != "H" {
		t.Fatalf("follow-up: %+v", f)
	}
	var tasks struct {
		Items []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
			DueAt int64  `json:"dueAt"`
		}
	}
	s.Do("GET", "/tasks", nil).Expect(t, http.StatusOK).JSON(t, &tasks)
	if len(tasks.Items) != 1 || tasks.Items[0].Title != "周六邀约试驾" || tasks.Items[0].DueAt != next {
		t.Fatalf("tasks: %+v", tasks.Items)
	}
	var cust crm.Customer
	s.Do("GET", fmt.Sprintf("/customers/%d", c.CustomerID), nil).Expect(t, http.StatusOK).JSON(t, &cust)
	if cust.Grade != "H" || cust.NextFollowupAt == nil || *cust.NextFollowupAt != next || cust.Stage != "prospect" {
		t.Fatalf("customer after follow-up: grade %s next %v stage %s", cust.Grade, cust.NextFollowupAt, cust.Stage)
	}
	reminders := func() int {
		n, err := env.App.Tasks.RunReminders(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	env.Clock.Advance(46 * time.Hour)
	if reminders() != 0 {
		t.Fatal("reminded too early")
	}
	env.Clock.Advance(90 * time.Minute) // 30 minutes before the due time: past the 60-minute reminder
	if reminders() != 1 || reminders() != 0 {
		t.Fatal("want exactly one reminder")
	}
	if n := notifications(t, env, env.UserID("sales"), "task.reminder"); n != 1 {
		t.Fatalf("%d reminder notifications", n)
	}
	// The next follow-up completes the planned task.
	s = env.As("sales")
	s.Do("POST", fmt.Sprintf("/customers/%d/followups", c.CustomerID), map[string]any{"method": "visit", "content": "已到店试驾", "result": "visited"}).Expect(t, http.StatusCreated)
	s.Do("GET", "/tasks", nil).Expect(t, http.StatusOK).JSON(t, &tasks)
	if len(tasks.Items) != 0 {
		t.Fatalf("the planned follow-up task is still open: %+v", tasks.Items)
	}
	apptest.ExpectField(t, s.Do("POST", fmt.Sprintf("/customers/%d/followups", c.CustomerID), map[string]any{"method": "phone", "content": "x", "result": "reached", "nextStep": "回访"}), "nextAt", "crm.next_at_required")
	apptest.ExpectField(t, s.Do("POST", fmt.Sprintf("/customers/%d/followups", c.CustomerID), map[string]any{"method": "phone", "content": "x", "result": "reached", "grade": "F"}), "grade", "crm.grade_reserved")
}

func TestLost_RequestGoesThroughApprovalAndShowsOnTheTimeline(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	c := postLead(t, s, map[string]any{"phone": "18600002222", "channel": "phone", "assign": "me", "name": "赵敏"})
	apptest.ExpectField(t, s.Do("POST", fmt.Sprintf("/customers/%d/lost", c.CustomerID), map[string]any{"reason": "bought_competitor"}), "brand", "crm.brand_required")
	var req crm.LostRequest
	s.Do("POST", fmt.Sprintf("/customers/%d/lost", c.CustomerID), map[string]any{"reason": "bought_competitor", "brand": "本田", "note": "价格更低"}).Expect(t, http.StatusCreated).JSON(t, &req)
	if req.ApprovalID == 0 {
		t.Fatal("no approval started")
	}
	apptest.ExpectErr(t, s.Do("POST", fmt.Sprintf("/customers/%d/lost", c.CustomerID), map[string]any{"reason": "price"}), http.StatusConflict, "crm.lost_pending")
	var cust crm.Customer
	s.Do("GET", fmt.Sprintf("/customers/%d", c.CustomerID), nil).Expect(t, http.StatusOK).JSON(t, &cust)
	if cust.Status != "active" || cust.PendingLostID == nil || cust.PendingLostApprovalID == nil || *cust.PendingLostApprovalID != req.ApprovalID {
		t.Fatalf("before approval: status %s pending %v", cust.Status, cust.PendingLostID)
	}
	// The consultant cannot approve; the sales manager can.
	if r := s.Do("POST", fmt.Sprintf("/approvals/%d/approve", req.ApprovalID), map[string]any{"comment": "ok"}); r.Status == http.StatusOK {
		t.Fatal("the submitter approved their own request")
	}
	mgr := env.As("sales_manager")
	var inbox struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	mgr.Do("GET", "/approvals/inbox", nil).Expect(t, http.StatusOK).JSON(t, &inbox)
	if len(inbox.Items) != 1 {
		t.Fatalf("manager's inbox: %+v", inbox)
	}
	mgr.Do("POST", fmt.Sprintf("/approvals/%d/approve", req.ApprovalID), map[string]any{"comment": "同意战败", "version": 0}).Expect(t, http.StatusOK)
	s.Do("GET", fmt.Sprintf("/customers/%d", c.CustomerID), nil).Expect(t, http.StatusOK).JSON(t, &cust)
	if cust.Status != "lost" || cust.Grade != "F" || cust.LostBrand != "本田" || cust.SLADueAt != nil {
		t.Fatalf("after approval: %+v", cust)
	}
	k := timelineKinds(t, s, c.CustomerID)
	if k["approval.submitted"] != 1 || k["approval.approved"] != 1 || k["customer.lost"] != 1 {
		t.Fatalf("timeline: %v", k)
	}
	// Reactivate brings them back.
	s.Do("POST", fmt.Sprintf("/customers/%d/reactivate", c.CustomerID), nil).Expect(t, http.StatusOK).JSON(t, &cust)
	if cust.Status != "active" || cust.Grade == "F" {
		t.Fatalf("reactivated: %+v", cust)
	}
}

func TestLost_RejectedLeavesTheCustomerActive(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	c := postLead(t, s, map[string]any{"phone": "18600003333", "channel": "phone", "assign": "me"})
	var req crm.LostRequest
	s.Do("POST", fmt.Sprintf("/customers/%d/lost", c.CustomerID), map[string]any{"reason": "price"}).Expect(t, http.StatusCreated).JSON(t, &req)
	env.As("sales_manager").Do("POST", fmt.Sprintf("/approvals/%d/reject", req.ApprovalID), map[string]any{"comment": "再跟进一次，给出最新优惠"}).Expect(t, http.StatusOK)
	var cust crm.Customer
	s.Do("GET", fmt.Sprintf("/customers/%d", c.CustomerID), nil).Expect(t, http.StatusOK).JSON(t, &cust)
	if cust.Status != "active" || cust.PendingLostID != nil {
		t.Fatalf("after rejection: %+v", cust)
	}
	// A new request is possible again.
	s.Do("POST", fmt.Sprintf("/customers/%d/lost", c.CustomerID), map[string]any{"reason": "no_longer_buying"}).Expect(t, http.StatusCreated)
}

func TestMerge_KeepsEveryTimelineEntry(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	a := postLead(t, s, map[string]any{"phone": "18600004444", "channel": "phone", "assign": "me", "name": "陈静"})
	b := postLead(t, s, map[string]any{"phone": "0571-87650000", "channel": "website", "assign": "me", "name": "陈静", "region": "杭州市西湖区"})
	s.Do("POST", fmt.Sprintf("/customers/%d/followups", b.CustomerID), map[string]any{"method": "phone", "content": "座机联系上", "result": "reached"}).Expect(t, http.StatusCreated)
	before := timelineKinds(t, s, a.CustomerID)
	beforeB := timelineKinds(t, s, b.CustomerID)
	mgr := env.As("sales_manager")
	var dups struct {
		Items []crm.DuplicateGroup `json:"items"`
	}
	mgr.Do("GET", "/customers/duplicates", nil).Expect(t, http.StatusOK).JSON(t, &dups)
	if len(dups.Items) != 1 || len(dups.Items[0].Customers) != 2 {
		t.Fatalf("duplicates: %+v", dups.Items)
	}
	s.Do("POST", "/customers/merge", map[string]any{"keepId": a.CustomerID, "mergeId": b.CustomerID}).Expect(t, http.StatusForbidden)
	var kept crm.Customer
	mgr.Do("POST", "/customers/merge", map[string]any{"keepId": a.CustomerID, "mergeId": b.CustomerID}).Expect(t, http.StatusOK).JSON(t, &kept)
	if len(kept.Phones) != 2 || kept.Region != "杭州市西湖区" {
		t.Fatalf("kept: phones %+v region %q", kept.Phones, kept.Region)
	}
	after := timelineKinds(t, s, a.CustomerID)
	total := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return
	}
	if total(after) != total(before)+total(beforeB)+1 || after["followup"] != 1 || after["customer.merged"] != 1 {
		t.Fatalf("timeline before %v + %v, after %v", before, beforeB, after)
	}
	// The landline now finds the kept customer.
	res := postLead(t, env.As("dcc"), map[string]any{"phone": "(0571) 8765 0000", "channel": "phone"})
	if res.CustomerID != a.CustomerID || res.Outcome != "attached" {
		t.Fatalf("lead on the merged phone: %+v", res)
	}
}

func TestList_ScopeFiltersPhoneSuffixAndKeysetPaging(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	other := env.As("sales_HZ012")
	for i := 0; i < 12; i++ {
		postLead(t, s, map[string]any{"phone": fmt.Sprintf("1770000%04d", i), "channel": "phone", "assign": "me", "name": fmt.Sprintf("张%d", i), "grade": []string{"H", "A", "B"}[i%3]})
		env.Clock.Advance(time.Second)
	}
	postLead(t, other, map[string]any{"phone": "17799990000", "channel": "phone", "assign": "me", "name": "别人的客户"})
	list := func(c *apptest.Client, q string) crm.CustomerList {
		var l crm.CustomerList
		c.Do("GET", "/customers?"+q, nil).Expect(t, http.StatusOK).JSON(t, &l)
		return l
	}
	if l := list(s, "count=1"); l.Total == nil || *l.Total != 12 {
		t.Fatalf("consultant sees %v customers, want own 12", l.Total)
	}
	if l := list(env.As("sales_manager"), "count=1"); *l.Total != 13 {
		t.Fatalf("manager sees %d, want the store's 13", *l.Total)
	}
	if l := list(env.As("sales_NB011"), "count=1"); *l.Total != 0 {
		t.Fatal("another store's consultant sees store 1's customers")
	}
	if l := list(s, "grades=H&count=1"); *l.Total != 4 {
		t.Fatalf("grade filter: %d", *l.Total)
	}
	l := list(s, "q=0007")
	if len(l.Items) != 1 || l.Items[0].Name != "张7" || !strings.Contains(l.Items[0].Phone, "*") {
		t.Fatalf("last-4 search: %+v", l.Items)
	}
	if l := list(s, "q=张1"); len(l.Items) != 3 { // 张1, 张10, 张11
		t.Fatalf("name prefix: %d", len(l.Items))
	}
	// Keyset paging returns every row once, newest first.
	seen := map[int64]bool{}
	cursor := ""
	var last int64 = 1 << 62
	for page := 0; page < 10; page++ {
		l := list(s, "limit=5&cursor="+cursor)
		for _, c := range l.Items {
			if seen[c.ID] || c.CreatedAt > last {
				t.Fatalf("page %d repeats or is out of order: %d", page, c.ID)
			}
			seen[c.ID], last = true, c.CreatedAt
		}
		if cursor = l.Next; cursor == "" {
			break
		}
	}
	if len(seen) != 12 {
		t.Fatalf("paging saw %d of 12", len(seen))
	}
	apptest.ExpectField(t, s.Do("GET", "/customers?sort=phone", nil), "sort", "invalid_format")
	apptest.ExpectField(t, s.Do("GET", "/customers?channels=tv", nil), "channels", "crm.channel_unknown")
	// Overdue: all 12 are walk-in-free phone leads owned by the creator, so each
	// waits for a first contact; 16 minutes later all are overdue.
	env.Clock.Advance(16 * time.Minute)
	s = env.As("sales")
	if l := list(s, "overdue=1&count=1"); *l.Total != 12 {
		t.Fatalf("overdue: %d", *l.Total)
	}
}

func TestExport_MaskedForConsultantsAndAudited(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	postLead(t, s, map[string]any{"phone": "18912345678", "channel": "phone", "assign": "me", "name": "导出测试", "tags": []string{"置换"}})
	s.Do("GET", "/customers/export", nil).Expect(t, http.StatusForbidden) // consultants may not export
	mgr := env.As("sales_manager")
	r := mgr.Do("GET", "/customers/export", nil).Expect(t, http.StatusOK)
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %v (%v)", rows, err)
	}
	if rows[0][1] != "姓名" || rows[1][1] != "导出测试" || rows[1][2] != "18912345678" {
		t.Fatalf("export: %v", rows)
	}
	if env.AuditCount("export", "customer") != 1 {
		t.Fatal("export not audited")
	}
}

func TestReveal_ShowsFullNumbersAndIsAudited(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	c := postLead(t, s, map[string]any{"phone": "13512345678", "channel": "phone", "assign": "me"})
	var cust crm.Customer
	s.Do("GET", fmt.Sprintf("/customers/%d", c.CustomerID), nil).Expect(t, http.StatusOK).JSON(t, &cust)
	if cust.Phone != "135****5678" {
		t.Fatalf("profile phone %q not masked", cust.Phone)
	}
	var rev crm.Revealed
	s.Do("POST", fmt.Sprintf("/customers/%d/reveal", c.CustomerID), nil).Expect(t, http.StatusOK).JSON(t, &rev)
	if len(rev.Phones) != 1 || rev.Phones[0] != "13512345678" {
		t.Fatalf("revealed %+v", rev)
	}
	if env.AuditCount("reveal", "customer") != 1 {
		t.Fatal("reveal not audited")
	}
	// Marketing may read customers but not reveal.
	env.As("marketing").Do("POST", fmt.Sprintf("/customers/%d/reveal", c.CustomerID), nil).Expect(t, http.StatusForbidden)
}

func TestVisits_LogWithPhoneCreatesTheCustomerForTheConsultant(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	dcc := env.As("dcc") // the reception desk
	consultant := env.UserID("sales_HZ013")
	var v crm.Visit
	dcc.Do("POST", "/showroom-visits", map[string]any{"name": "孙先生", "phone": "13698765432", "partySize": 3, "visit": "first", "consultantId": consultant, "testDrive": true}).
		Expect(t, http.StatusCreated).JSON(t, &v)
	if v.CustomerID == nil || owner(t, env, *v.CustomerID) != consultant {
		t.Fatalf("visit: %+v", v)
	}
	dcc.Do("POST", "/showroom-visits", map[string]any{"partySize": 2, "visit": "first"}).Expect(t, http.StatusCreated)
	var day crm.VisitDay
	dcc.Do("GET", "/showroom-visits", nil).Expect(t, http.StatusOK).JSON(t, &day)
	if day.Total != 2 || day.WithPhone != 1 || day.TestDrive != 1 {
		t.Fatalf("day: total %d withPhone %d testDrive %d", day.Total, day.WithPhone, day.TestDrive)
	}
	apptest.ExpectField(t, dcc.Do("POST", fmt.Sprintf("/showroom-visits/%d/leave", v.ID), map[string]any{"leftAt": v.ArrivedAt - 1000, "version": v.Version}), "leftAt", "crm.left_before_arrived")
	dcc.Do("POST", fmt.Sprintf("/showroom-visits/%d/leave", v.ID), map[string]any{"version": v.Version}).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, dcc.Do("POST", fmt.Sprintf("/showroom-visits/%d/leave", v.ID), map[string]any{"version": v.Version}), http.StatusConflict, "conflict.stale")
}

func TestSettings_ValidatedAndVersioned(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	mgr := env.As("sales_manager")
	var st crm.Settings
	mgr.Do("GET", "/crm/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	bad := st
	bad.EscalateHours = [2]int{48, 24}
	apptest.ExpectField(t, mgr.Do("PUT", "/crm/settings", bad), "escalateHours.1", "crm.escalate_order")
	bad = st
	bad.Grades = append([]crm.Grade{}, st.Grades...)
	bad.Grades[1].Code = "H"
	apptest.ExpectField(t, mgr.Do("PUT", "/crm/settings", bad), "grades.1.code", "crm.grade_duplicate")
	st.FirstContactMinutes = 30
	var saved crm.Settings
	mgr.Do("PUT", "/crm/settings", st).Expect(t, http.StatusOK).JSON(t, &saved)
	if saved.FirstContactMinutes != 30 || saved.Version != 1 {
		t.Fatalf("saved: %+v", saved)
	}
	apptest.ExpectErr(t, mgr.Do("PUT", "/crm/settings", st), http.StatusConflict, "conflict.stale")
	env.As("sales").Do("PUT", "/crm/settings", saved).Expect(t, http.StatusForbidden)
	// The new deadline applies to the next lead.
	c := postLead(t, mgr, map[string]any{"phone": "13311112222", "channel": "website", "ownerId": env.UserID("sales")})
	var due int64
	env.App.DB.R.QueryRow(`SELECT sla_due_at FROM customer WHERE id = ?`, c.CustomerID).Scan(&due)
	if due != env.Clock.Now().Add(30*time.Minute).UnixMilli() {
		t.Fatal("the store's first-contact minutes were not used")
	}
}
