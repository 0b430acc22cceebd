package crm_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/crm"
)

// helpers -------------------------------------------------------------------

type lead struct {
	LeadID     int64        `json:"leadId"`
	CustomerID int64        `json:"customerId"`
	Outcome    string       `json:"outcome"`
	Repeated   bool         `json:"repeated"`
	Customer   crm.Customer `json:"customer"`
}

func postLead(t *testing.T, c *apptest.Client, body map[string]any) lead {
	t.Helper()
	var out lead
	r := c.Do("POST", "/leads", body)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("POST /leads: %s", r)
	}
	r.JSON(t, &out)
	return out
}

// salesTeam returns the id of the first store's 销售部.
func salesTeam(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var id int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM department WHERE store_id = 1 AND name = '销售部'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func addRule(t *testing.T, mgr *apptest.Client, body map[string]any) crm.Rule {
	t.Helper()
	if _, ok := body["enabled"]; !ok {
		body["enabled"] = true
	}
	var r crm.Rule
	mgr.Do("POST", "/assign-rules", body).Expect(t, http.StatusCreated).JSON(t, &r)
	return r
}

func owner(t *testing.T, env *apptest.Env, customerID int64) int64 {
	t.Helper()
	var id *int64
	if err := env.App.DB.R.QueryRow(`SELECT owner_id FROM customer WHERE id = ?`, customerID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id == nil {
		return 0
	}
	return *id
}

func notifications(t *testing.T, env *apptest.Env, userID int64, kind string) int {
	t.Helper()
	var n int
	if err := env.App.DB.R.QueryRow(`SELECT count(*) FROM notification WHERE user_id = ? AND kind = ?`, userID, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func timelineKinds(t *testing.T, c *apptest.Client, id int64) map[string]int {
	t.Helper()
	var tl struct {
		Items []struct {
			Kind string `json:"kind"`
		} `json:"items"`
	}
	c.Do("GET", fmt.Sprintf("/customers/%d/timeline?limit=200", id), nil).Expect(t, http.StatusOK).JSON(t, &tl)
	out := map[string]int{}
	for _, e := range tl.Items {
		out[e.Kind]++
	}
	return out
}

// capture and identity ------------------------------------------------------

func TestCreateLead_NewPhoneIsAssignedByTheRuleAndTheOwnerIsTold(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	mgr := env.As("sales_manager")
	addRule(t, mgr, map[string]any{"name": "网站线索", "channels": []string{"website"}, "targetKind": "team", "departmentId": salesTeam(t, env), "strategy": "round_robin"})

	res := postLead(t, env.As("dcc"), map[string]any{"phone": "+86 139-0571-0001", "name": "周小川", "channel": "website"})
	if res.Outcome != "new" || res.CustomerID == 0 {
		t.Fatalf("want a new customer, got %+v", res)
	}
	o := owner(t, env, res.CustomerID)
	if o == 0 {
		t.Fatal("a matching rule left the customer unassigned")
	}
	var team int64
	env.App.DB.R.QueryRow(`SELECT department_id FROM app_user WHERE id = ?`, o).Scan(&team)
	if team != salesTeam(t, env) {
		t.Fatalf("owner %d is not in the sales team", o)
	}
	if n := notifications(t, env, o, "lead.assigned"); n != 1 {
		t.Fatalf("owner got %d assignment notices, want 1", n)
	}
	var phone string
	env.App.DB.R.QueryRow(`SELECT phone FROM customer WHERE id = ?`, res.CustomerID).Scan(&phone)
	if phone != "13905710001" {
		t.Fatalf("phone stored as %q, want the normalized 13905710001", phone)
	}
	// The first-contact deadline is 15 minutes of open time away.
	var due int64
	env.App.DB.R.QueryRow(`SELECT sla_due_at FROM customer WHERE id = ?`, res.CustomerID).Scan(&due)
	if want := env.Clock.Now().Add(15 * time.Minute).UnixMilli(); due != want {
		t.Fatalf("first-contact deadline %d, want %d", due, want)
	}
	kinds := timelineKinds(t, mgr, res.CustomerID)
	if kinds["lead.created"] != 1 || kinds["customer.assigned"] != 1 {
		t.Fatalf("timeline: %v", kinds)
	}
}

func TestCreateLead_KnownPhoneAttachesAndTellsTheOwner(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	sales := env.As("sales")
	first := postLead(t, sales, map[string]any{"phone": "13800138000", "name": "李雷", "channel": "walk_in", "assign": "me"})
	if owner(t, env, first.CustomerID) != env.UserID("sales") {
		t.Fatal("assign=me did not make the creator the owner")
	}
	// The same number typed differently, from the DCC, on another channel.
	second := postLead(t, env.As("dcc"), map[string]any{"phone": "0086 138 0013 8000", "channel": "autohome", "note": "询价"})
	if second.Outcome != "attached" || second.CustomerID != first.CustomerID {
		t.Fatalf("want attached to %d, got %+v", first.CustomerID, second)
	}
	if second.Customer.Name != "" {
		t.Fatal("the DCC agent may not read the consultant's customer but got its profile")
	}
	if n := notifications(t, env, env.UserID("sales"), "lead.returned"); n != 1 {
		t.Fatalf("owner told %d times, want 1", n)
	}
	var customers, leads int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer`).Scan(&customers)
	env.App.DB.R.QueryRow(`SELECT count(*) FROM lead`).Scan(&leads)
	if customers != 1 || leads != 2 {
		t.Fatalf("customers=%d leads=%d, want 1 and 2", customers, leads)
	}
	// A walk-in taken by the consultant counts as contacted: no first-contact deadline.
	var kind string
	env.App.DB.R.QueryRow(`SELECT sla_kind FROM customer WHERE id = ?`, first.CustomerID).Scan(&kind)
	if kind == "first_contact" {
		t.Fatal("a walk-in received in person still waits for a first contact")
	}
}

func TestCreateLead_ExtIDMakesARepeatedPostHarmless(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("dcc")
	a := postLead(t, c, map[string]any{"phone": "13912345678", "channel": "website", "extId": "web-1001"})
	r := c.Do("POST", "/leads", map[string]any{"phone": "13912345678", "channel": "website", "extId": "web-1001"}).Expect(t, http.StatusOK)
	var b lead
	r.JSON(t, &b)
	if !b.Repeated || b.LeadID != a.LeadID {
		t.Fatalf("repeat: %+v first: %+v", b, a)
	}
}

func TestCreateLead_BadInputGetsFieldErrors(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := env.As("dcc")
	apptest.ExpectField(t, c.Do("POST", "/leads", map[string]any{"phone": "12345", "channel": "website"}), "phone", "phone.too_short")
	apptest.ExpectField(t, c.Do("POST", "/leads", map[string]any{"channel": "website"}), "phone", "required")
	apptest.ExpectField(t, c.Do("POST", "/leads", map[string]any{"phone": "13800138000", "channel": "tiktok"}), "channel", "crm.channel_unknown")
	apptest.ExpectField(t, c.Do("POST", "/leads", map[string]any{"phone": "13800138000", "channel": "website", "grade": "Z"}), "grade", "crm.grade_unknown")
	apptest.ExpectField(t, c.Do("POST", "/leads", map[string]any{"phone": "13800138000", "channel": "website", "ownerId": 3}), "ownerId", "forbidden")
	var n int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer`).Scan(&n)
	if n != 0 {
		t.Fatalf("rejected leads created %d customers", n)
	}
}

func TestConcurrent_IntakeOfOnePhoneMakesOneCustomer(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	mgr := env.As("sales_manager")
	addRule(t, mgr, map[string]any{"name": "全部", "targetKind": "team", "departmentId": salesTeam(t, env), "strategy": "round_robin"})
	clients := make([]*apptest.Client, 4)
	for i := range clients {
		clients[i] = env.As("dcc")
	}
	const n = 16
	var wg sync.WaitGroup
	results := make([]lead, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = postLead(t, clients[i%len(clients)], map[string]any{"phone": "138 0013 8000", "channel": "website", "note": fmt.Sprint(i)})
		}(i)
	}
	wg.Wait()
	newCount := 0
	for _, r := range results {
		if r.Outcome == "new" {
			newCount++
		}
		if r.CustomerID != results[0].CustomerID {
			t.Fatalf("two customers for one phone: %d and %d", r.CustomerID, results[0].CustomerID)
		}
	}
	var customers, owners, assignments int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer`).Scan(&customers)
	env.App.DB.R.QueryRow(`SELECT count(DISTINCT owner_id) FROM customer`).Scan(&owners)
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer_assignment`).Scan(&assignments)
	if newCount != 1 || customers != 1 || owners != 1 || assignments != 1 {
		t.Fatalf("new=%d customers=%d owners=%d assignments=%d, want 1 each", newCount, customers, owners, assignments)
	}
}

// assignment ----------------------------------------------------------------

func TestAssign_RoundRobinSkipsAbsent(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	mgr := env.As("sales_manager")
	addRule(t, mgr, map[string]any{"name": "轮流", "targetKind": "team", "departmentId": salesTeam(t, env), "strategy": "round_robin"})
	absent := env.UserID("sales_HZ012")
	now := env.Clock.Now().UnixMilli()
	mgr.Do("POST", fmt.Sprintf("/users/%d/absences", absent), map[string]any{"fromAt": now - 1000, "untilAt": now + 86400000, "reason": "年假"}).Expect(t, http.StatusCreated)
	dcc := env.As("dcc")
	counts := map[int64]int{}
	for i := 0; i < 25; i++ {
		res := postLead(t, dcc, map[string]any{"phone": fmt.Sprintf("1390000%04d", i), "channel": "phone"})
		counts[owner(t, env, res.CustomerID)]++
	}
	if counts[absent] != 0 {
		t.Fatalf("absent consultant got %d leads", counts[absent])
	}
	if len(counts) != 5 {
		t.Fatalf("want the 5 present consultants to share, got %v", counts)
	}
	for id, n := range counts {
		if n != 5 {
			t.Fatalf("round robin uneven: user %d got %d (%v)", id, n, counts)
		}
	}
}

func TestAssign_FewestOpenEvensOutTheLoad(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	mgr := env.As("sales_manager")
	// sales already holds 4 open leads.
	s := env.As("sales")
	for i := 0; i < 4; i++ {
		postLead(t, s, map[string]any{"phone": fmt.Sprintf("1370000%04d", i), "channel": "walk_in", "assign": "me"})
	}
	addRule(t, mgr, map[string]any{"name": "最少", "targetKind": "team", "departmentId": salesTeam(t, env), "strategy": "fewest_open"})
	dcc := env.As("dcc")
	counts := map[int64]int{}
	for i := 0; i < 10; i++ {
		res := postLead(t, dcc, map[string]any{"phone": fmt.Sprintf("1360000%04d", i), "channel": "phone"})
		counts[owner(t, env, res.CustomerID)]++
	}
	if counts[env.UserID("sales")] != 0 {
		t.Fatalf("the consultant with 4 open leads got more before the others caught up: %v", counts)
	}
	for id, n := range counts {
		if n != 2 {
			t.Fatalf("want 2 each for the five others, user %d got %d (%v)", id, n, counts)
		}
	}
}

func TestAssign_WeightedGivesBetterConvertersMore(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	mgr := env.As("sales_manager")
	star, weak := env.UserID("sales"), env.UserID("sales_HZ012")
	now := env.Clock.Now().UnixMilli()
	// History: both got 20 leads in the last 90 days; the star ordered 10, the other 1.
	for i := 0; i < 20; i++ {
		for _, u := range []int64{star, weak} {
			_, err := env.App.DB.W.Exec(`INSERT INTO customer (store_id, owner_id, name, phone, channel, stage, ordered_at, created_at, updated_at) VALUES (1, ?, 'x', ?, 'phone', 'prospect', ?, ?, ?)`,
				u, fmt.Sprintf("1%d%09d", u%9+1, i), orderedAt(u == star && i < 10 || u == weak && i < 1, now), now, now)
			if err != nil {
				t.Fatal(err)
			}
			env.App.DB.W.Exec(`INSERT INTO customer_assignment (customer_id, store_id, to_user, reason, at) VALUES (last_insert_rowid(), 1, ?, 'auto', ?)`, u, now-86400000)
		}
	}
	// Only these two in the rule's target: a rule per person would not show weights,
	// so move the others out of the team for this test.
	env.App.DB.W.Exec(`UPDATE app_user SET department_id = NULL WHERE department_id = ? AND id NOT IN (?, ?) AND username LIKE 'sales%' AND username <> 'sales_manager'`, salesTeam(t, env), star, weak)
	addRule(t, mgr, map[string]any{"name": "加权", "targetKind": "team", "departmentId": salesTeam(t, env), "strategy": "weighted"})
	dcc := env.As("dcc")
	counts := map[int64]int{}
	for i := 0; i < 30; i++ {
		res := postLead(t, dcc, map[string]any{"phone": fmt.Sprintf("1350000%04d", i), "channel": "phone"})
		counts[owner(t, env, res.CustomerID)]++
	}
	if counts[star] <= 2*counts[weak] || counts[weak] == 0 {
		t.Fatalf("weighted: star %d vs weak %d; want the star well ahead and the other not starved", counts[star], counts[weak])
	}
}

func orderedAt(won bool, now int64) any {
	if won {
		return now - 86400000
	}
	return nil
}

func TestAssign_NoMatchingRuleGoesToThePoolAndTellsManagers(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	res := postLead(t, env.As("dcc"), map[string]any{"phone": "13711112222", "channel": "website"})
	if owner(t, env, res.CustomerID) != 0 {
		t.Fatal("without rules the lead still got an owner")
	}
	if n := notifications(t, env, env.UserID("sales_manager"), "lead.unassigned"); n != 1 {
		t.Fatalf("sales manager told %d times", n)
	}
	var pool crm.CustomerList
	env.As("sales").Do("GET", "/pool", nil).Expect(t, http.StatusOK).JSON(t, &pool)
	if len(pool.Items) != 1 || pool.Items[0].ID != res.CustomerID {
		t.Fatalf("pool: %+v", pool.Items)
	}
}

func TestAssign_ReassignAndTransferKeepHistory(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	var ids []int64
	for i := 0; i < 7; i++ {
		ids = append(ids, postLead(t, s, map[string]any{"phone": fmt.Sprintf("1580000%04d", i), "channel": "phone", "assign": "me"}).CustomerID)
	}
	mgr := env.As("sales_manager")
	// Consultants may not reassign.
	s.Do("POST", fmt.Sprintf("/customers/%d/assign", ids[0]), map[string]any{"ownerId": env.UserID("sales_HZ012")}).Expect(t, http.StatusForbidden)
	mgr.Do("POST", fmt.Sprintf("/customers/%d/assign", ids[0]), map[string]any{"ownerId": env.UserID("sales_HZ012")}).Expect(t, http.StatusOK)
	if owner(t, env, ids[0]) != env.UserID("sales_HZ012") {
		t.Fatal("reassign did not change the owner")
	}
	to := []int64{env.UserID("sales_HZ013"), env.UserID("sales_HZ014")}
	var tr crm.TransferResult
	mgr.Do("POST", "/customers/transfer", map[string]any{"fromUserId": env.UserID("sales"), "toUserIds": to, "note": "离职"}).Expect(t, http.StatusOK).JSON(t, &tr)
	if tr.Moved != 6 || tr.PerUser[to[0]] != 3 || tr.PerUser[to[1]] != 3 {
		t.Fatalf("transfer: %+v", tr)
	}
	var left int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer WHERE owner_id = ?`, env.UserID("sales")).Scan(&left)
	if left != 0 {
		t.Fatalf("%d customers still with the leaver", left)
	}
	var hist int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer_assignment WHERE customer_id = ?`, ids[1]).Scan(&hist)
	if hist != 2 {
		t.Fatalf("customer %d has %d assignment rows, want creator + transfer", ids[1], hist)
	}
	if k := timelineKinds(t, mgr, ids[1]); k["customer.assigned"] != 2 {
		t.Fatalf("timeline: %v", k)
	}
}

// deadlines -------------------------------------------------------------------

func TestSLA_EachLevelOnceAtItsTime(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	mgrID := env.UserID("sales_manager")
	res := postLead(t, env.As("sales_manager"), map[string]any{"phone": "13600001111", "channel": "website", "ownerId": env.UserID("sales")})
	o := env.UserID("sales")
	run := func() int {
		n, err := env.App.CRM.RunSLA(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	env.Clock.Advance(14 * time.Minute)
	if n := run(); n != 0 {
		t.Fatalf("%d reminders before the deadline", n)
	}
	env.Clock.Advance(2 * time.Minute)
	if n := run(); n != 1 || notifications(t, env, o, "lead.sla_overdue") != 1 {
		t.Fatalf("at the deadline: sent %d", n)
	}
	if n := run(); n != 0 {
		t.Fatal("a second run repeated the reminder")
	}
	if notifications(t, env, mgrID, "lead.sla_escalated") != 0 {
		t.Fatal("escalated too early")
	}
	env.Clock.Advance(24 * time.Hour)
	if n := run(); n != 1 || notifications(t, env, mgrID, "lead.sla_escalated") != 1 {
		t.Fatalf("first escalation: sent %d", n)
	}
	env.Clock.Advance(24 * time.Hour)
	if n := run(); n != 1 || notifications(t, env, env.UserID("gm"), "lead.sla_escalated") != 1 {
		t.Fatalf("second escalation (GM copied): sent %d", n)
	}
	env.Clock.Advance(72 * time.Hour)
	if n := run(); n != 0 {
		t.Fatalf("after the last level: %d more", n)
	}
	// A follow-up meets the deadline and starts the grade cadence instead.
	env.As("sales").Do("POST", fmt.Sprintf("/customers/%d/followups", res.CustomerID), map[string]any{"method": "phone", "content": "已联系，周末到店", "result": "reached"}).Expect(t, http.StatusCreated)
	var kind string
	var level int
	env.App.DB.R.QueryRow(`SELECT sla_kind, sla_level FROM customer WHERE id = ?`, res.CustomerID).Scan(&kind, &level)
	if kind == "first_contact" || level != 0 {
		t.Fatalf("after contact: sla %q level %d", kind, level)
	}
}

func TestSLA_ClockJumpSendsEveryPassedLevelOnce(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	postLead(t, env.As("sales_manager"), map[string]any{"phone": "13600002222", "channel": "website", "ownerId": env.UserID("sales")})
	env.Clock.Advance(5 * 24 * time.Hour)
	n, err := env.App.CRM.RunSLA(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("after a jump past all levels: %d sent (%v), want 3", n, err)
	}
	// A restart: a new run over the same database sends nothing more.
	if n, _ := env.App.CRM.RunSLA(t.Context()); n != 0 {
		t.Fatalf("repeat after jump: %d", n)
	}
}

func TestSLA_DeadlineCountsOnlyOpenHours(t *testing.T) {
	t.Parallel()
	st := crm.DefaultSettings()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	cases := []struct{ at, want string }{
		{"2026-11-23 21:00", "2026-11-24 09:15"}, // after closing → next morning
		{"2026-11-23 17:50", "2026-11-24 09:05"}, // 10 minutes today, 5 tomorrow
		{"2026-11-23 07:00", "2026-11-23 09:15"}, // before opening
		{"2026-11-23 10:00", "2026-11-23 10:15"},
	}
	for _, c := range cases {
		at, _ := time.ParseInLocation("2006-01-02 15:04", c.at, loc)
		got := st.AddWorking(at, 15*time.Minute).In(loc).Format("2006-01-02 15:04")
		if got != c.want {
			t.Errorf("lead at %s: due %s, want %s", c.at, got, c.want)
		}
	}
	st.WorkingHours.Days = []int{1, 2, 3, 4, 5} // closed at the weekend
	fri, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-27 17:55", loc)
	if got := st.AddWorking(fri, 15*time.Minute).In(loc).Format("2006-01-02 15:04"); got != "2026-11-30 09:10" {
		t.Errorf("Friday evening lead due %s, want Monday 09:10", got)
	}
}

// pool --------------------------------------------------------------------------

func TestPool_UntouchedLeadsReturnAndOthersClaimWithinLimits(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	a := postLead(t, s, map[string]any{"phone": "15900001111", "channel": "phone", "assign": "me"})
	b := postLead(t, s, map[string]any{"phone": "15900002222", "channel": "phone", "assign": "me"})
	env.Clock.Advance(6 * 24 * time.Hour)
	s = env.As("sales") // the old session has expired
	s.Do("POST", fmt.Sprintf("/customers/%d/followups", b.CustomerID), map[string]any{"method": "wechat", "content": "发了车型资料", "result": "reached"}).Expect(t, http.StatusCreated)
	env.Clock.Advance(2 * 24 * time.Hour)
	s = env.As("sales")
	n, err := env.App.CRM.RunPoolReturn(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("pool return moved %d (%v), want only the untouched one", n, err)
	}
	if owner(t, env, a.CustomerID) != 0 || owner(t, env, b.CustomerID) == 0 {
		t.Fatal("the wrong customer went back to the pool")
	}
	if notifications(t, env, env.UserID("sales"), "customer.pooled") != 1 {
		t.Fatal("the former owner was not told")
	}
	// The previous owner cannot see it any more; a colleague claims it.
	s.Do("GET", fmt.Sprintf("/customers/%d", a.CustomerID), nil).Expect(t, http.StatusNotFound)
	other := env.As("sales_HZ012")
	other.Do("POST", fmt.Sprintf("/customers/%d/claim", a.CustomerID), nil).Expect(t, http.StatusOK)
	if owner(t, env, a.CustomerID) != env.UserID("sales_HZ012") {
		t.Fatal("claim did not take ownership")
	}
	apptest.ExpectErr(t, env.As("sales_HZ013").Do("POST", fmt.Sprintf("/customers/%d/claim", a.CustomerID), nil), http.StatusConflict, "crm.already_claimed")
	// Limits: one claim a day.
	mgr := env.As("sales_manager")
	var st crm.Settings
	mgr.Do("GET", "/crm/settings", nil).Expect(t, http.StatusOK).JSON(t, &st)
	st.ClaimsPerDay = 1
	mgr.Do("PUT", "/crm/settings", st).Expect(t, http.StatusOK)
	c := postLead(t, mgr, map[string]any{"phone": "15900003333", "channel": "phone", "assign": "pool"})
	apptest.ExpectErr(t, other.Do("POST", fmt.Sprintf("/customers/%d/claim", c.CustomerID), nil), http.StatusConflict, "crm.claim_limit")
}

func TestConcurrent_ClaimHasOneWinner(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	c := postLead(t, env.As("sales_manager"), map[string]any{"phone": "15900004444", "channel": "phone", "assign": "pool"})
	users := []string{"sales", "sales_HZ012", "sales_HZ013", "sales_HZ014", "sales_HZ015", "sales_HZ016"}
	clients := make([]*apptest.Client, len(users))
	for i, u := range users {
		clients[i] = env.As(u)
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(users))
	for i := range clients {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = clients[i].Do("POST", fmt.Sprintf("/customers/%d/claim", c.CustomerID), nil).Status
		}(i)
	}
	wg.Wait()
	wins := 0
	for _, st := range statuses {
		if st == http.StatusOK {
			wins++
		} else if st != http.StatusConflict {
			t.Fatalf("unexpected status %d", st)
		}
	}
	var hist int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer_assignment WHERE customer_id = ? AND reason = 'claim'`, c.CustomerID).Scan(&hist)
	if wins != 1 || hist != 1 {
		t.Fatalf("wins=%d claim rows=%d, want 1", wins, hist)
	}
}

func TestIntake_WebsiteFormWithAnAPIKey(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var role struct {
		ID int64 `json:"id"`
	}
	admin.Do("POST", "/roles", map[string]any{"code": "web_form", "name": "官网表单", "scope": "store", "permissions": []string{"lead.create"}}).Expect(t, http.StatusCreated).JSON(t, &role)
	var key struct {
		Key string `json:"key"`
	}
	admin.Do("POST", "/apikeys", map[string]any{"name": "官网试驾预约表单", "roleId": role.ID, "storeId": 1}).Expect(t, http.StatusCreated).JSON(t, &key)
	addRule(t, env.As("sales_manager"), map[string]any{"name": "官网", "channels": []string{"website"}, "targetKind": "team", "departmentId": salesTeam(t, env), "strategy": "round_robin"})

	web := env.Client()
	web.Header.Set("Authorization", "Bearer "+key.Key)
	body := map[string]any{"phone": "+86 186 0000 9999", "name": "官网访客", "channel": "website", "sourceDetail": "试驾预约页", "extId": "form-20261123-001", "consent": true}
	r := web.Do("POST", "/leads", body).Expect(t, http.StatusCreated)
	var res lead
	r.JSON(t, &res)
	if res.Outcome != "new" || owner(t, env, res.CustomerID) == 0 {
		t.Fatalf("website lead: %+v", res)
	}
	if res.Customer.Name != "" {
		t.Fatal("the form's key received the customer's profile")
	}
	// The website retries after a timeout: nothing new.
	web.Do("POST", "/leads", body).Expect(t, http.StatusOK)
	var leads, consents int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM lead`).Scan(&leads)
	env.App.DB.R.QueryRow(`SELECT count(*) FROM customer_consent WHERE customer_id = ? AND granted = 1 AND method = 'web_form'`, res.CustomerID).Scan(&consents)
	if leads != 1 || consents != 1 {
		t.Fatalf("leads=%d consents=%d", leads, consents)
	}
	// The key can do nothing else.
	web.Do("GET", "/customers", nil).Expect(t, http.StatusForbidden)
	apptest.ExpectField(t, web.Do("POST", "/leads", map[string]any{"phone": "555-0100", "channel": "website"}), "phone", "phone.no_area_code")
}
