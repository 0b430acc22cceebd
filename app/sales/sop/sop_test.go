package sop_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/sales/sop"
)

// newLead creates a customer owned by the client's user and returns its id.
func newLead(t *testing.T, env *apptest.Env, c *apptest.Client, phone string, extra map[string]any) int64 {
	t.Helper()
	body := map[string]any{"phone": phone, "channel": "phone", "assign": "me", "name": "测试客户" + phone[len(phone)-4:]}
	for k, v := range extra {
		body[k] = v
	}
	r := c.Do("POST", "/leads", body)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("POST /leads: %s", r)
	}
	var out struct {
		CustomerID int64 `json:"customerId"`
	}
	r.JSON(t, &out)
	return out.CustomerID
}

// stageIDs maps the system keys of store 1 to their stage ids.
func stageIDs(t *testing.T, c *apptest.Client) (map[string]int64, sop.StageList) {
	t.Helper()
	var l sop.StageList
	c.Do("GET", "/sop/stages", nil).Expect(t, http.StatusOK).JSON(t, &l)
	m := map[string]int64{}
	for _, st := range l.Items {
		if st.Key != "" {
			m[st.Key] = st.ID
		}
	}
	return m, l
}

func state(t *testing.T, c *apptest.Client, id int64) sop.State {
	t.Helper()
	var st sop.State
	c.Do("GET", fmt.Sprintf("/sop/customers/%d", id), nil).Expect(t, http.StatusOK).JSON(t, &st)
	return st
}

func move(c *apptest.Client, id, to, version int64, extra ...any) *apptest.Response {
	body := map[string]any{"toStageId": to, "version": version}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return c.Do("POST", fmt.Sprintf("/sop/customers/%d/move", id), body)
}

func seriesID(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var id int64
	if err := env.App.DB.R.QueryRow(`SELECT id FROM vehicle_series ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMove_GateRefusedWithExactlyWhatIsMissing(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	keys, _ := stageIDs(t, s)
	id := newLead(t, env, s, "18600002001", nil)
	st := state(t, s, id)
	if st.StageKey != "clean" || st.Version != 0 || !st.Open {
		t.Fatalf("a new lead stands at the first stage: %+v", st)
	}
	// clean → contact: clean has no gate.
	move(s, id, keys["contact"], 0).Expect(t, http.StatusOK)
	// contact → visit skips intent and invited: contacted and intent_set are missing.
	r := move(s, id, keys["visit"], 1)
	e := apptest.ExpectErr(t, r, http.StatusUnprocessableEntity, "sop.gates_unmet")
	got := e.Details["keys"].([]any)
	if len(got) != 2 || got[0] != "contacted" || got[1] != "intent_set" {
		t.Fatalf("missing: %v", e.Details)
	}
	if e.Details["canOverride"] != false || e.Message == "" {
		t.Fatalf("details: %+v", e)
	}
	// A reached follow-up with a grade records the first contact; the series makes the intent.
	s.Do("POST", fmt.Sprintf("/customers/%d/followups", id), map[string]any{"method": "phone", "content": "首次电话沟通", "result": "reached", "grade": "H"}).Expect(t, http.StatusCreated)
	r = move(s, id, keys["visit"], 1)
	e = apptest.ExpectErr(t, r, http.StatusUnprocessableEntity, "sop.gates_unmet")
	if got := e.Details["keys"].([]any); len(got) != 1 || got[0] != "intent_set" {
		t.Fatalf("after contact, missing: %v", got)
	}
	if _, err := env.App.DB.W.Exec(`UPDATE customer SET series_id = ? WHERE id = ?`, seriesID(t, env), id); err != nil {
		t.Fatal(err)
	}
	move(s, id, keys["visit"], 1).Expect(t, http.StatusOK)
	st = state(t, s, id)
	if st.StageKey != "visit" || st.Version != 2 || len(st.Gates) != 1 || st.Gates[0].Key != "visited" || st.Gates[0].Met {
		t.Fatalf("at visit: %+v", st)
	}
	// Backward moves are never gated.
	move(s, id, keys["contact"], 2).Expect(t, http.StatusOK)
	if n := env.AuditCount("sop.move", "customer"); n != 3 {
		t.Fatalf("audit rows: %d", n)
	}
	var events int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM timeline_event WHERE customer_id = ? AND kind = 'sop.moved'`, id).Scan(&events)
	if events != 3 {
		t.Fatalf("timeline events: %d", events)
	}
}

func TestMove_OverrideNeedsManagerAndReason(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	m := env.As("sales_manager")
	keys, _ := stageIDs(t, s)
	id := newLead(t, env, s, "18600002002", nil)
	move(s, id, keys["contact"], 0).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, move(s, id, keys["quote"], 1, "override", true, "reason", "客户急购"), http.StatusForbidden, "sop.override_forbidden")
	apptest.ExpectField(t, move(m, id, keys["quote"], 1, "override", true), "reason", "sop.reason_required")
	e := apptest.ExpectErr(t, move(m, id, keys["quote"], 1), http.StatusUnprocessableEntity, "sop.gates_unmet")
	if e.Details["canOverride"] != true {
		t.Fatalf("a manager may override: %+v", e.Details)
	}
	move(m, id, keys["quote"], 1, "override", true, "reason", "客户急购，已电话确认").Expect(t, http.StatusOK)
	st := state(t, s, id)
	last := st.History[len(st.History)-1]
	if st.StageKey != "quote" || last.How != sop.HowOverride || last.Reason != "客户急购，已电话确认" || last.LeftAt != nil {
		t.Fatalf("override: %+v", st)
	}
	var after string
	env.App.DB.R.QueryRow(`SELECT after_json FROM audit_log WHERE action = 'sop.move' ORDER BY id DESC LIMIT 1`).Scan(&after)
	if !strings.Contains(after, "override") || !strings.Contains(after, "contacted") {
		t.Fatalf("audit of the override: %s", after)
	}
}

// TestConcurrent_MoveOneCustomer races many moves of one customer through the
// HTTP API, all from the same version: exactly one wins, the others get 409,
// and the history has one open stay that matches the winner.
func TestConcurrent_MoveOneCustomer(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	keys, _ := stageIDs(t, s)
	id := newLead(t, env, s, "18600002003", nil)
	// Gates met: every mover would succeed alone.
	if _, err := env.App.DB.W.Exec(`UPDATE customer SET first_contact_at = 1, grade = 'A', series_id = ? WHERE id = ?`, seriesID(t, env), id); err != nil {
		t.Fatal(err)
	}
	move(s, id, keys["invited"], 0).Expect(t, http.StatusOK)
	st := state(t, s, id)
	targets := []int64{keys["contact"], keys["intent"], keys["clean"], keys["visit"], keys["contact"], keys["intent"], keys["clean"], keys["visit"]}
	clients := make([]*apptest.Client, len(targets))
	for i := range clients {
		clients[i] = env.As("sales")
	}
	var wg sync.WaitGroup
	codes := make([]int, len(targets))
	for i, to := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = move(clients[i], id, to, st.Version).Status
		}()
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			won++
		case http.StatusConflict:
		default:
			t.Fatalf("unexpected status %d in %v", c, codes)
		}
	}
	if won != 1 {
		t.Fatalf("want exactly one winner, got %v", codes)
	}
	after := state(t, s, id)
	var open, rows int
	var openStage int64
	env.App.DB.R.QueryRow(`SELECT count(*) FROM sop_history WHERE customer_id = ?`, id).Scan(&rows)
	env.App.DB.R.QueryRow(`SELECT count(*), max(stage_id) FROM sop_history WHERE customer_id = ? AND left_at IS NULL`, id).Scan(&open, &openStage)
	if open != 1 || openStage != after.StageID || after.Version != st.Version+1 || rows != 3 {
		t.Fatalf("history: %d rows, %d open at %d; state %+v", rows, open, openStage, after)
	}
}

func TestAdvanceTx_ForwardOnlyAndAutomatic(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	keys, _ := stageIDs(t, s)
	id := newLead(t, env, s, "18600002004", nil)
	advance := func(key string) {
		t.Helper()
		if err := env.App.DB.WriteTx(t.Context(), func(tx *sql.Tx) error { return env.App.SOP.AdvanceTx(t.Context(), tx, id, key) }); err != nil {
			t.Fatal(err)
		}
	}
	advance("quote") // gates are not asked: the event is the proof
	if st := state(t, s, id); st.StageID != keys["quote"] || st.History[len(st.History)-1].How != sop.HowAuto {
		t.Fatalf("advance to quote: %+v", st)
	}
	advance("contact")  // backward: nothing
	advance("quote")    // same: nothing
	advance("nonsense") // no such stage: nothing
	st := state(t, s, id)
	if st.StageID != keys["quote"] || st.Version != 1 || len(st.History) != 2 {
		t.Fatalf("advance must never move backward: %+v", st)
	}
	advance("contract")
	if st := state(t, s, id); st.StageID != keys["contract"] || st.Version != 2 {
		t.Fatalf("advance to contract: %+v", st)
	}
	// A deactivated stage is not aimed at.
	m := env.As("sales_manager")
	_, l := stageIDs(t, m)
	for _, x := range l.Items {
		if x.Key == "delivery" {
			m.Do("PUT", fmt.Sprintf("/sop/stages/%d", x.ID), map[string]any{"name": x.Name, "gates": x.Gates, "tasks": x.Tasks, "active": false, "version": x.Version}).Expect(t, http.StatusOK)
		}
	}
	advance("delivery")
	if st := state(t, s, id); st.StageID != keys["contract"] {
		t.Fatalf("advance to an inactive stage: %+v", st)
	}
}

func TestMove_EntryTasksWithDueOffsets(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	keys, _ := stageIDs(t, s)
	id := newLead(t, env, s, "18600002005", nil)
	if _, err := env.App.DB.W.Exec(`UPDATE customer SET first_contact_at = 1 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	move(s, id, keys["intent"], 0).Expect(t, http.StatusOK)
	now := env.Clock.Now().UnixMilli()
	var title string
	var assignee, due int64
	if err := env.App.DB.R.QueryRow(`SELECT title, assignee_id, due_at FROM task WHERE customer_id = ? AND kind = 'sop'`, id).Scan(&title, &assignee, &due); err != nil {
		t.Fatal(err)
	}
	if title != "发送车型资料" || assignee != env.UserID("sales") || due != now+24*time.Hour.Milliseconds() {
		t.Fatalf("entry task: %s %d %d (now %d)", title, assignee, due, now)
	}
	// The contract stage's task goes to the manager of the consultant's team.
	m := env.As("sales_manager")
	move(m, id, keys["contract"], 1, "override", true, "reason", "测试").Expect(t, http.StatusOK)
	var mgr sql.NullInt64
	env.App.DB.R.QueryRow(`SELECT d.manager_id FROM department d JOIN customer c ON c.department_id = d.id WHERE c.id = ?`, id).Scan(&mgr)
	want := env.UserID("sales")
	if mgr.Valid {
		want = mgr.Int64
	}
	if err := env.App.DB.R.QueryRow(`SELECT assignee_id, due_at FROM task WHERE customer_id = ? AND kind = 'sop' AND title = '审核合同与定金'`, id).Scan(&assignee, &due); err != nil {
		t.Fatal(err)
	}
	if assignee != want || due != now+24*time.Hour.Milliseconds() {
		t.Fatalf("manager task: assignee %d (want %d), due %d", assignee, want, due)
	}
}

func TestStages_RenameAndReorderKeepWonAndLost(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	m := env.As("sales_manager")
	keys, l := stageIDs(t, m)
	lost := newLead(t, env, s, "18600002006", nil)
	won := newLead(t, env, s, "18600002007", nil)
	open := newLead(t, env, s, "18600002008", nil)
	move(m, lost, keys["quote"], 0, "override", true, "reason", "测试").Expect(t, http.StatusOK)
	move(m, won, keys["delivery"], 0, "override", true, "reason", "测试").Expect(t, http.StatusOK)
	if _, err := env.App.DB.W.Exec(`UPDATE customer SET status = 'lost' WHERE id = ?`, lost); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.DB.W.Exec(`UPDATE customer SET stage = 'delivered' WHERE id = ?`, won); err != nil {
		t.Fatal(err)
	}
	// Rename every stage to something else and reverse the order.
	ids := []int64{}
	for _, st := range l.Items {
		m.Do("PUT", fmt.Sprintf("/sop/stages/%d", st.ID), map[string]any{"name": "阶段" + st.Name, "gates": st.Gates, "tasks": st.Tasks, "version": st.Version}).Expect(t, http.StatusOK)
		ids = append([]int64{st.ID}, ids...)
	}
	m.Do("POST", "/sop/stages/reorder", map[string]any{"ids": ids}).Expect(t, http.StatusOK)
	var status, lifecycle string
	env.App.DB.R.QueryRow(`SELECT status FROM customer WHERE id = ?`, lost).Scan(&status)
	env.App.DB.R.QueryRow(`SELECT stage FROM customer WHERE id = ?`, won).Scan(&lifecycle)
	if status != "lost" || lifecycle != "delivered" {
		t.Fatalf("won/lost changed by stage edits: %s %s", status, lifecycle)
	}
	if st := state(t, m, lost); st.Open || st.StageID != keys["quote"] || st.StageName != "阶段报价" {
		t.Fatalf("lost customer: %+v", st)
	}
	if st := state(t, m, won); st.Open {
		t.Fatalf("won customer is not on the board: %+v", st)
	}
	var b sop.Board
	m.Do("GET", "/sop/board?q=测试客户", nil).Expect(t, http.StatusOK).JSON(t, &b)
	var onBoard []int64
	for _, c := range b.Columns {
		for _, card := range c.Cards {
			onBoard = append(onBoard, card.CustomerID)
		}
	}
	if !slices.Equal(onBoard, []int64{open}) || b.Columns[0].Stage.ID != ids[0] {
		t.Fatalf("board after reorder: %v, first column %+v", onBoard, b.Columns[0].Stage)
	}
	// A lost customer cannot be moved; a stale edit is a conflict.
	apptest.ExpectErr(t, move(m, lost, keys["contact"], 1), http.StatusConflict, "sop.customer_closed")
	apptest.ExpectErr(t, m.Do("PUT", fmt.Sprintf("/sop/stages/%d", l.Items[0].ID), map[string]any{"name": "x", "version": l.Items[0].Version}), http.StatusConflict, "sop.stage_changed")
	_, fresh := stageIDs(t, m)
	apptest.ExpectField(t, m.Do("PUT", fmt.Sprintf("/sop/stages/%d", fresh.Items[1].ID), map[string]any{"name": fresh.Items[0].Name, "version": fresh.Items[1].Version}), "name", "sop.name_taken")
	apptest.ExpectErr(t, m.Do("POST", "/sop/stages/reorder", map[string]any{"ids": ids[1:]}), http.StatusConflict, "sop.stages_changed")
}

func TestStages_DeleteRefusedWhileInUse(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	m := env.As("sales_manager")
	keys, _ := stageIDs(t, m)
	var st sop.Stage
	m.Do("POST", "/sop/stages", map[string]any{"name": "二次邀约", "gates": []string{"contacted"}, "tasks": []map[string]any{{"title": "二次邀约电话", "dueHours": 4, "assignee": "owner"}}}).
		Expect(t, http.StatusCreated).JSON(t, &st)
	apptest.ExpectField(t, m.Do("POST", "/sop/stages", map[string]any{"name": "y", "gates": []string{"no_such_gate"}}), "gates", "sop.gate_unknown")
	apptest.ExpectErr(t, s.Do("POST", "/sop/stages", map[string]any{"name": "z"}), http.StatusForbidden, "forbidden")
	id := newLead(t, env, s, "18600002009", nil)
	move(m, id, st.ID, 0, "override", true, "reason", "测试").Expect(t, http.StatusOK)
	var tasks int
	env.App.DB.R.QueryRow(`SELECT count(*) FROM task WHERE customer_id = ? AND title = '二次邀约电话'`, id).Scan(&tasks)
	if tasks != 1 {
		t.Fatalf("entry task of a new stage: %d", tasks)
	}
	e := apptest.ExpectErr(t, m.Do("DELETE", fmt.Sprintf("/sop/stages/%d?version=%d", st.ID, st.Version), nil), http.StatusConflict, "sop.stage_in_use")
	if e.Details["customers"] != float64(1) {
		t.Fatalf("details: %+v", e.Details)
	}
	apptest.ExpectErr(t, m.Do("DELETE", fmt.Sprintf("/sop/stages/%d?version=1", keys["finance"]), nil), http.StatusConflict, "sop.system_stage")
	move(m, id, keys["contact"], 1).Expect(t, http.StatusOK)
	m.Do("DELETE", fmt.Sprintf("/sop/stages/%d?version=%d", st.ID, st.Version), nil).Expect(t, http.StatusNoContent)
	// The history keeps the deleted stage by name.
	hist := state(t, m, id).History
	if len(hist) != 3 || hist[1].StageName != "二次邀约" {
		t.Fatalf("history: %+v", hist)
	}
}

func TestMove_ScopeConsultantCannotMoveAnothersCustomer(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	other := env.As("sales_HZ012")
	keys, _ := stageIDs(t, s)
	id := newLead(t, env, other, "18600002010", nil)
	apptest.ExpectErr(t, move(s, id, keys["contact"], 0), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, s.Do("GET", fmt.Sprintf("/sop/customers/%d", id), nil), http.StatusNotFound, "not_found")
	var b sop.Board
	s.Do("GET", "/sop/board?q=18600002010", nil).Expect(t, http.StatusOK).JSON(t, &b)
	if b.Total != 0 {
		t.Fatalf("another's customer on my board: %+v", b)
	}
	other.Do("GET", "/sop/board?q=002010", nil).Expect(t, http.StatusOK).JSON(t, &b)
	if b.Total != 1 {
		t.Fatalf("own customer by phone suffix: %+v", b.Total)
	}
	// Another store's board is not found for a store-scope manager.
	apptest.ExpectErr(t, env.As("sales_manager").Do("GET", "/sop/board?storeId=2", nil), http.StatusNotFound, "not_found")
}

func TestMove_TimeInStageRecordedAndReported(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	keys, _ := stageIDs(t, s)
	id := newLead(t, env, s, "18600002011", nil)
	env.Clock.Advance(24 * time.Hour)
	s = env.As("sales") // sessions expire while the clock runs
	move(s, id, keys["contact"], 0).Expect(t, http.StatusOK)
	env.Clock.Advance(3 * 24 * time.Hour)
	s = env.As("sales")
	m := env.As("sales_manager")
	var st sop.State
	s.Do("GET", fmt.Sprintf("/sop/customers/%d", id), nil).Expect(t, http.StatusOK).JSON(t, &st)
	if st.DaysInStage != 3 {
		t.Fatalf("days in stage: %+v", st)
	}
	s.Do("POST", fmt.Sprintf("/customers/%d/followups", id), map[string]any{"method": "phone", "content": "沟通", "result": "reached"}).Expect(t, http.StatusCreated)
	move(s, id, keys["intent"], 1).Expect(t, http.StatusOK)
	st = state(t, s, id)
	if len(st.History) != 3 || st.History[0].Days != 1 || st.History[0].How != sop.HowInitial || st.History[1].Days != 3 || st.History[2].LeftAt != nil {
		t.Fatalf("history: %+v", st.History)
	}
	var rep sop.CycleReport
	m.Do("GET", "/sop/report/cycle", nil).Expect(t, http.StatusOK).JSON(t, &rep)
	for _, r := range rep.Items {
		if r.StageID == keys["contact"] && (r.Stays < 1 || r.MedianDays <= 0) {
			t.Fatalf("cycle report row: %+v", r)
		}
	}
	apptest.ExpectErr(t, s.Do("GET", "/sop/report/cycle", nil), http.StatusForbidden, "forbidden")
}

func TestBoard_ColumnsCountsAndPaging(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	s := env.As("sales")
	keys, _ := stageIDs(t, s)
	newLead(t, env, env.As("sales_HZ012"), "18600003999", nil) // another's: not on my board
	for i := 0; i < 12; i++ {
		id := newLead(t, env, s, fmt.Sprintf("1860000%04d", 3000+i), nil)
		env.Clock.Advance(time.Minute)
		switch i % 3 {
		case 1:
			move(s, id, keys["contact"], 0).Expect(t, http.StatusOK)
		case 2:
			move(s, id, keys["contact"], 0).Expect(t, http.StatusOK)
			move(s, id, keys["clean"], 1).Expect(t, http.StatusOK)
		}
	}
	var b sop.Board
	s.Do("GET", "/sop/board?limit=2", nil).Expect(t, http.StatusOK).JSON(t, &b)
	if len(b.Columns) < 9 {
		t.Fatalf("columns: %d", len(b.Columns))
	}
	me := env.UserID("sales")
	total := 0
	for _, c := range b.Columns {
		total += c.Count
		if len(c.Cards) > 2 || (c.Count > 2) != (c.Next != "") {
			t.Fatalf("column %s: %d cards of %d, next %q", c.Stage.Name, len(c.Cards), c.Count, c.Next)
		}
		for _, card := range c.Cards {
			if card.OwnerID == nil || *card.OwnerID != me || card.StageID != c.Stage.ID {
				t.Fatalf("card out of scope or column: %+v", card)
			}
		}
		if c.Next == "" {
			continue
		}
		seen := map[int64]bool{}
		for _, card := range c.Cards {
			seen[card.CustomerID] = true
		}
		cursor := c.Next
		for cursor != "" {
			var p sop.CardList
			s.Do("GET", fmt.Sprintf("/sop/board/column?stageId=%d&limit=2&cursor=%s", c.Stage.ID, cursor), nil).Expect(t, http.StatusOK).JSON(t, &p)
			for _, card := range p.Items {
				if seen[card.CustomerID] {
					t.Fatalf("card %d twice", card.CustomerID)
				}
				seen[card.CustomerID] = true
			}
			cursor = p.Next
		}
		if len(seen) != c.Count {
			t.Fatalf("column %s: paged %d of %d", c.Stage.Name, len(seen), c.Count)
		}
	}
	if total != 12 || total != b.Total {
		t.Fatalf("total %d vs %d", total, b.Total)
	}
	// The list pages through the same customers in every sort.
	for _, sort := range []string{"days", "stage", "next", "name"} {
		seen := map[int64]bool{}
		cursor := ""
		for {
			var p sop.CardList
			s.Do("GET", fmt.Sprintf("/sop/list?sort=%s&order=desc&limit=7&cursor=%s", sort, cursor), nil).Expect(t, http.StatusOK).JSON(t, &p)
			if p.Total != total {
				t.Fatalf("list total %d, board %d", p.Total, total)
			}
			for _, c := range p.Items {
				if seen[c.CustomerID] {
					t.Fatalf("sort %s: %d twice", sort, c.CustomerID)
				}
				seen[c.CustomerID] = true
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if len(seen) != total {
			t.Fatalf("sort %s: %d of %d", sort, len(seen), total)
		}
	}
}
