package approval_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"dealerdesk/app/approval"
	"dealerdesk/app/apptest"
)

// TestSubmit_DefaultStepsWorkOutOfTheBox: with no definition the document type's
// default (one step: the store's sales manager) applies; approving it ends the
// approval, tells the document once and the submitter.
func TestSubmit_DefaultStepsWorkOutOfTheBox(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	doc := env.doc("sales", 50000, "price")
	inst := env.mustSubmit("sales", doc)
	if inst.Status != "pending" || inst.DefinitionID != nil || inst.StepCount != 1 || inst.CurrentStepName != "销售经理审批" {
		t.Fatalf("instance %+v, want pending on the default step", inst)
	}
	if n := env.notesTo("sales_manager", "approval.pending", inst.ID); n != 1 {
		t.Errorf("%d pending notifications to the sales manager, want 1", n)
	}
	if n := env.count(`SELECT count(*) FROM timeline_event WHERE customer_id = ? AND kind = 'approval.submitted' AND entity = 'approval' AND entity_id = ?`, *inst.CustomerID, inst.ID); n != 1 {
		t.Errorf("%d approval.submitted timeline events, want 1", n)
	}

	mgr := env.As("sales_manager")
	box := getInbox(t, mgr)
	if box.Total != 1 || len(box.Items) != 1 || box.Items[0].ID != inst.ID || box.ByType[docType] != 1 || box.Items[0].ActingForID != nil {
		t.Fatalf("manager's inbox %+v, want the one document", box)
	}
	d := getDetail(t, mgr, inst.ID)
	// The margin is for cost.read only: the sales manager and the submitter
	// never see it, in the detail, the inbox or the list; the GM does.
	for _, who := range []string{"sales", "sales_manager"} {
		for _, path := range []string{fmt.Sprintf("/approvals/%d", inst.ID), "/approvals/inbox", "/approvals", "/approvals?mine=submitted"} {
			body := string(env.As(who).Do("GET", path, nil).Expect(t, 200).Body)
			if strings.Contains(body, `"margin"`) {
				t.Errorf("%s sees the margin in %s: %s", who, path, body)
			}
		}
	}
	if body := string(env.As("gm").Do("GET", fmt.Sprintf("/approvals/%d", inst.ID), nil).Expect(t, 200).Body); !strings.Contains(body, `"margin":5000`) || !strings.Contains(body, `"amount":50000`) {
		t.Errorf("the GM's detail lacks the margin: %s", body)
	}
	if !d.Can.Decide || d.Can.Withdraw || d.Link != fmt.Sprintf("/test-docs/%d", doc) || len(d.Steps) != 1 || d.Steps[0].Status != "waiting" {
		t.Fatalf("detail for the approver %+v", d)
	}
	r := mgr.Do("POST", fmt.Sprintf("/approvals/%d/approve", inst.ID), map[string]any{"comment": "同意", "version": d.Version}).Expect(t, 200)
	r.JSON(t, &d)
	if d.Status != "approved" || d.Steps[0].Status != "approved" || d.Can.Decide {
		t.Fatalf("after approve %+v", d)
	}
	if s, n := env.docStatus(doc); s != "approved" || n != 1 {
		t.Errorf("document %s after %d Decided calls, want approved once", s, n)
	}
	if n := env.notesTo("sales", "approval.decided", inst.ID); n != 1 {
		t.Errorf("%d decided notifications to the submitter, want 1", n)
	}
	if n := env.count(`SELECT count(*) FROM timeline_event WHERE entity = 'approval' AND entity_id = ? AND kind = 'approval.approved' AND json_extract(data, '$.final') = 1 AND json_extract(data, '$.comment') = '同意'`, inst.ID); n != 1 {
		t.Errorf("%d final approval.approved events with the comment, want 1", n)
	}
	if n := env.AuditCount("approve", "approval_instance"); n != 1 {
		t.Errorf("%d approve audit rows, want 1", n)
	}
	if n := env.AuditCount("submit", "approval_instance"); n != 1 {
		t.Errorf("%d submit audit rows, want 1", n)
	}
	if box := getInbox(t, mgr); box.Total != 0 {
		t.Errorf("inbox still has %d after deciding", box.Total)
	}
	apptest.ExpectErr(t, act(mgr, inst.ID, "approve", ""), http.StatusConflict, "approval.not_pending")
}

// TestRouting_PicksTheDefinitionByConditionsAndStore: a store's own definitions
// come before group-wide ones, each by priority; a disabled one and one whose
// conditions fail are passed over; nothing matching means the default steps.
func TestRouting_PicksTheDefinitionByConditionsAndStore(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	big := []approval.Condition{{Field: "amount", Op: "gte", Value: 1000000}}
	env.define(admin, nil, "大额 集团", 10, big, step("经理", "any", role("sales_manager")), step("总经理", "any", role("gm")))
	env.define(admin, storeID(1), "价格原因 门店", 20, []approval.Condition{{Field: "reason", Op: "in", Value: []string{"price", "elsewhere"}}}, step("财务", "any", role("finance")))
	env.define(admin, storeID(1), "价格原因 优先", 5, []approval.Condition{{Field: "reason", Op: "eq", Value: "price"}, {Field: "amount", Op: "lt", Value: 100}}, step("总经理", "any", role("gm")))
	off := env.define(admin, storeID(1), "停用", 1, nil, step("DCC", "any", role("dcc")))
	var def map[string]any
	admin.Do("GET", "/approval-definitions?storeId=1", nil).Expect(t, 200).JSON(t, &def)
	for _, it := range def["items"].([]any) {
		m := it.(map[string]any)
		if int64(m["id"].(float64)) == off {
			m["enabled"] = false
			delete(m, "id")
			delete(m, "storeName")
			delete(m, "updatedAt")
			admin.Do("PUT", fmt.Sprintf("/approval-definitions/%d", off), m).Expect(t, 200)
		}
	}
	env.define(admin, storeID(2), "宁波 全部", 1, nil, step("总经理", "any", role("gm")))

	cases := []struct {
		owner  string
		amount int64
		reason string
		want   string // definition name, "" for the default
	}{
		{"sales", 2000000, "other", "大额 集团"},       // store 1: own rules fail, the group-wide one holds
		{"sales", 2000000, "price", "价格原因 门店"},     // the store's own rule wins over the group's
		{"sales", 50, "price", "价格原因 优先"},          // two own rules hold: the smaller priority
		{"sales", 5000, "other", ""},               // nothing holds: the default
		{"sales_NB011", 2000000, "other", "宁波 全部"}, // store 2 has its own catch-all
	}
	for _, c := range cases {
		inst := env.mustSubmit(c.owner, env.doc(c.owner, c.amount, c.reason))
		if inst.DefinitionName != c.want || (c.want == "") != (inst.DefinitionID == nil) {
			t.Errorf("%s %d %s routed to %q, want %q", c.owner, c.amount, c.reason, inst.DefinitionName, c.want)
		}
	}
}

// TestSteps_SequentialStepsAdvance: the second step's approver sees nothing until
// the first step is approved, then is notified and decides.
func TestSteps_SequentialStepsAdvance(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	env.define(admin, storeID(1), "两级", 1, nil, step("经理", "any", role("sales_manager")), step("总经理", "any", role("gm")))
	doc := env.doc("sales", 1, "other")
	inst := env.mustSubmit("sales", doc)
	gm, mgr := env.As("gm"), env.As("sales_manager")
	if box := getInbox(t, gm); box.Total != 0 {
		t.Fatalf("gm's inbox has %d before step 1 is done", box.Total)
	}
	apptest.ExpectErr(t, act(gm, inst.ID, "approve", ""), http.StatusForbidden, "approval.not_your_turn")
	act(mgr, inst.ID, "approve", "").Expect(t, 200)
	if s, n := env.docStatus(doc); s != "pending" || n != 0 {
		t.Fatalf("document %s/%d after step 1, want still pending and not told", s, n)
	}
	if n := env.notesTo("gm", "approval.pending", inst.ID); n != 1 {
		t.Errorf("%d pending notifications to the gm, want 1", n)
	}
	d := getDetail(t, gm, inst.ID)
	if d.CurrentStep != 2 || d.Steps[0].Status != "approved" || d.Steps[1].Status != "waiting" || !d.Can.Decide {
		t.Fatalf("after step 1: %+v", d)
	}
	act(gm, inst.ID, "approve", "").Expect(t, 200)
	if s, n := env.docStatus(doc); s != "approved" || n != 1 {
		t.Errorf("document %s/%d, want approved once", s, n)
	}
}

// TestSteps_AllNeedsEveryoneAnyNeedsOne: a parallel "all" step waits for every
// approver; an "any" step completes with the first and skips the others.
func TestSteps_AllNeedsEveryoneAnyNeedsOne(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	env.define(admin, storeID(1), "会签", 1, nil,
		step("会签", "all", user(env.UserID("finance")), user(env.UserID("gm"))),
		step("财务任一", "any", role("finance")))
	doc := env.doc("sales", 1, "other")
	inst := env.mustSubmit("sales", doc)
	fin, gm, fin2 := env.As("finance"), env.As("gm"), env.As("finance_HZ012")
	seen := getDetail(t, gm, inst.ID).Version // the gm opens the page before finance decides
	act(fin, inst.ID, "approve", "").Expect(t, 200)
	d := getDetail(t, gm, inst.ID)
	if d.CurrentStep != 1 || d.Steps[0].Status != "waiting" || !d.Can.Decide || d.Version != seen {
		t.Fatalf("after one of two in an all step: %+v (version seen %d)", d, seen)
	}
	// The page the gm opened earlier is not stale: the step is the same.
	gm.Do("POST", fmt.Sprintf("/approvals/%d/approve", inst.ID), map[string]any{"version": seen}).Expect(t, 200)
	apptest.ExpectErr(t, fin2.Do("POST", fmt.Sprintf("/approvals/%d/approve", inst.ID), map[string]any{"version": seen}), http.StatusConflict, "conflict.stale")
	d = getDetail(t, fin2, inst.ID)
	if d.CurrentStep != 2 || len(d.Steps[1].Tasks) != 2 {
		t.Fatalf("step 2 should wait for both finance users: %+v", d)
	}
	act(fin2, inst.ID, "approve", "").Expect(t, 200)
	d = getDetail(t, fin, inst.ID)
	if d.Status != "approved" || d.Steps[1].Status != "approved" {
		t.Fatalf("any step: %+v", d)
	}
	got := map[string]int{}
	for _, tk := range d.Steps[1].Tasks {
		got[tk.Status]++
	}
	if got["approved"] != 1 || got["skipped"] != 1 {
		t.Errorf("any step tasks %v, want one approved, one skipped", got)
	}
	if box := getInbox(t, fin); box.Total != 0 {
		t.Errorf("the skipped approver still has %d in the inbox", box.Total)
	}
}

// TestReject_NeedsACommentAndEndsTheApproval.
func TestReject_NeedsACommentAndEndsTheApproval(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	env.define(admin, storeID(1), "两级", 1, nil, step("经理", "any", role("sales_manager")), step("总经理", "any", role("gm")))
	doc := env.doc("sales", 1, "other")
	inst := env.mustSubmit("sales", doc)
	mgr := env.As("sales_manager")
	apptest.ExpectField(t, act(mgr, inst.ID, "reject", "  "), "comment", "required")
	apptest.ExpectField(t, act(mgr, inst.ID, "return", ""), "comment", "required")
	var d detail
	act(mgr, inst.ID, "reject", "价格不合理").Expect(t, 200).JSON(t, &d)
	if d.Status != "rejected" || d.Steps[0].Status != "rejected" || d.Steps[1].Status != "skipped" {
		t.Fatalf("after reject %+v", d)
	}
	if s, n := env.docStatus(doc); s != "rejected" || n != 1 {
		t.Errorf("document %s/%d, want rejected once", s, n)
	}
	if n := env.count(`SELECT count(*) FROM notification WHERE user_id = ? AND title_key = 'notify.msg.approval_rejected'`, env.UserID("sales")); n != 1 {
		t.Errorf("%d rejection notices to the submitter, want 1", n)
	}
	if n := env.count(`SELECT count(*) FROM timeline_event WHERE entity_id = ? AND kind = 'approval.rejected' AND json_extract(data, '$.comment') = '价格不合理'`, inst.ID); n != 1 {
		t.Errorf("%d approval.rejected events, want 1", n)
	}
	apptest.ExpectErr(t, act(env.As("gm"), inst.ID, "approve", ""), http.StatusConflict, "approval.not_pending")
}

// TestSendBack_ReturnsToTheSubmitterWhoMaySubmitAgain; a document never has two
// pending approvals.
func TestSendBack_ReturnsToTheSubmitterWhoMaySubmitAgain(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	doc := env.doc("sales", 1, "other")
	inst := env.mustSubmit("sales", doc)
	if _, err := env.submit("sales", doc); err == nil || codeOf(err) != "approval.already_pending" {
		t.Fatalf("second submit while pending: %v, want approval.already_pending", err)
	}
	mgr := env.As("sales_manager")
	var d detail
	act(mgr, inst.ID, "return", "请补充竞品价格").Expect(t, 200).JSON(t, &d)
	if d.Status != "returned" {
		t.Fatalf("status %s, want returned", d.Status)
	}
	if s, _ := env.docStatus(doc); s != "returned" {
		t.Errorf("document %s, want returned", s)
	}
	again := env.mustSubmit("sales", doc)
	if again.ID == inst.ID || again.Status != "pending" {
		t.Fatalf("resubmit gave %+v", again)
	}
	p, err := env.App.Approval.PendingFor(t.Context(), env.App.DB.R, docType, doc)
	if err != nil || p == nil || p.ID != again.ID {
		t.Fatalf("PendingFor = %+v, %v; want the new instance", p, err)
	}
}

// TestWithdraw_OnlyBySubmitterWhilePending.
func TestWithdraw_OnlyBySubmitterWhilePending(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	doc := env.doc("sales", 1, "other")
	inst := env.mustSubmit("sales", doc)
	mgr, sales := env.As("sales_manager"), env.As("sales")
	apptest.ExpectErr(t, act(mgr, inst.ID, "withdraw", ""), http.StatusForbidden, "approval.not_submitter")
	d := getDetail(t, sales, inst.ID)
	if !d.Can.Withdraw || d.Can.Decide {
		t.Fatalf("submitter's rights %+v", d.Can)
	}
	apptest.ExpectErr(t, act(sales, inst.ID, "approve", ""), http.StatusForbidden, "approval.own_document")
	act(sales, inst.ID, "withdraw", "客户又回来了").Expect(t, 200).JSON(t, &d)
	if d.Status != "withdrawn" {
		t.Fatalf("status %s", d.Status)
	}
	if s, n := env.docStatus(doc); s != "withdrawn" || n != 1 {
		t.Errorf("document %s/%d, want withdrawn once", s, n)
	}
	if n := env.notesTo("sales_manager", "approval.decided", inst.ID); n != 1 {
		t.Errorf("%d withdrawal notices to the waiting approver, want 1", n)
	}
	apptest.ExpectErr(t, act(sales, inst.ID, "withdraw", ""), http.StatusConflict, "approval.not_pending")
	apptest.ExpectErr(t, act(mgr, inst.ID, "approve", ""), http.StatusConflict, "approval.not_pending")
}

// TestComment_AddsToHistoryAndTellsTheOthers.
func TestComment_AddsToHistoryAndTellsTheOthers(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	inst := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	mgr := env.As("sales_manager")
	apptest.ExpectField(t, act(mgr, inst.ID, "comment", ""), "comment", "required")
	var d detail
	act(mgr, inst.ID, "comment", "客户电话打不通？").Expect(t, 200).JSON(t, &d)
	if last := d.History[len(d.History)-1]; last.Action != "comment" || last.Comment != "客户电话打不通？" || d.Status != "pending" {
		t.Fatalf("history %+v", d.History)
	}
	if n := env.notesTo("sales", "approval.commented", inst.ID); n != 1 {
		t.Errorf("%d comment notices to the submitter, want 1", n)
	}
	if n := env.notesTo("sales_manager", "approval.commented", inst.ID); n != 0 {
		t.Errorf("the commenter was notified of their own comment")
	}
	if n := env.count(`SELECT count(*) FROM timeline_event WHERE entity_id = ? AND kind = 'approval.commented'`, inst.ID); n != 1 {
		t.Errorf("%d approval.commented events, want 1", n)
	}
}

// TestSubmitter_NeverApprovesTheirOwnDocument: the submitter is dropped from a
// step; a step left with nobody fails the submit, naming the step.
func TestSubmitter_NeverApprovesTheirOwnDocument(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	env.define(admin, storeID(1), "顾问互审", 1, []approval.Condition{{Field: "reason", Op: "eq", Value: "elsewhere"}}, step("同事", "any", role("sales")))
	env.define(admin, storeID(1), "只有本人", 2, []approval.Condition{{Field: "reason", Op: "eq", Value: "price"}}, step("本人审批", "any", user(env.UserID("sales"))))

	inst := env.mustSubmit("sales", env.doc("sales", 1, "elsewhere"))
	d := getDetail(t, env.As("sales_HZ012"), inst.ID)
	for _, tk := range d.Steps[0].Tasks {
		if tk.ApproverID == env.UserID("sales") {
			t.Fatalf("the submitter is an approver of their own document")
		}
	}
	if len(d.Steps[0].Tasks) != 5 {
		t.Errorf("%d approvers, want the 5 other consultants", len(d.Steps[0].Tasks))
	}

	_, err := env.submit("sales", env.doc("sales", 1, "price"))
	e := errOf(err)
	if e == nil || e.Code != "approval.no_approver" || e.Details["step"] != "本人审批" {
		t.Fatalf("submit with only the submitter as approver: %v, want approval.no_approver naming the step", err)
	}
}

// TestOwnerManager_IsTheManagerOfTheOwnersDepartment.
func TestOwnerManager_IsTheManagerOfTheOwnersDepartment(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	env.define(admin, storeID(1), "直属经理", 1, nil, step("直属经理", "any", approval.Approver{Kind: approval.ApproverOwnerManager}))
	if _, err := env.submit("sales", env.doc("sales", 1, "other")); codeOf(err) != "approval.no_approver" {
		t.Fatalf("without a department manager: %v, want approval.no_approver", err)
	}
	if _, err := env.App.DB.W.Exec(`UPDATE department SET manager_id = ? WHERE id = (SELECT department_id FROM app_user WHERE id = ?)`, env.UserID("sales_manager"), env.UserID("sales")); err != nil {
		t.Fatal(err)
	}
	inst := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	d := getDetail(t, env.As("sales_manager"), inst.ID)
	if len(d.Steps[0].Tasks) != 1 || d.Steps[0].Tasks[0].ApproverID != env.UserID("sales_manager") || !d.Can.Decide {
		t.Fatalf("owner's manager step %+v", d.Steps[0])
	}
}

// TestDelegation_DelegateActsOnlyWhileTheApproverIsAway.
func TestDelegation_DelegateActsOnlyWhileTheApproverIsAway(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	mgrID, dccID := env.UserID("sales_manager"), env.UserID("dcc")
	mgr, dcc := env.As("sales_manager"), env.As("dcc")
	now := env.Clock.Now()

	// Not away (the absence starts tomorrow): the delegate sees nothing.
	mgr.Do("POST", fmt.Sprintf("/users/%d/absences", mgrID), map[string]any{"fromAt": now.Add(24 * time.Hour).UnixMilli(), "untilAt": now.Add(48 * time.Hour).UnixMilli(), "delegateId": dccID}).Expect(t, 201)
	first := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	apptest.ExpectErr(t, dcc.Do("GET", fmt.Sprintf("/approvals/%d", first.ID), nil), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, act(dcc, first.ID, "approve", ""), http.StatusNotFound, "not_found")
	if box := getInbox(t, dcc); box.Total != 0 {
		t.Fatalf("delegate's inbox has %d before the absence", box.Total)
	}
	if n := env.notesTo("dcc", "approval.pending", first.ID); n != 0 {
		t.Errorf("the delegate was notified while the approver is present")
	}

	// Away now: the delegate is notified of new tasks, sees them and decides.
	mgr.Do("POST", fmt.Sprintf("/users/%d/absences", mgrID), map[string]any{"fromAt": now.Add(-time.Hour).UnixMilli(), "untilAt": now.Add(4 * time.Hour).UnixMilli(), "delegateId": dccID}).Expect(t, 201)
	inst := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	if n := env.notesTo("dcc", "approval.pending", inst.ID); n != 1 {
		t.Errorf("%d pending notifications to the delegate, want 1", n)
	}
	box := getInbox(t, dcc)
	if box.Total != 2 || box.Items[0].ActingForID == nil || *box.Items[0].ActingForID != mgrID || box.Items[0].ActingForName == "" {
		t.Fatalf("delegate's inbox %+v, want both documents as the manager's delegate", box)
	}
	d := getDetail(t, dcc, inst.ID)
	if !d.Can.Decide || d.Can.ActingForID == nil || *d.Can.ActingForID != mgrID || d.Steps[0].Tasks[0].DelegateName == "" {
		t.Fatalf("delegate's detail %+v", d)
	}
	act(dcc, inst.ID, "approve", "代批").Expect(t, 200).JSON(t, &d)
	tk := d.Steps[0].Tasks[0]
	if d.Status != "approved" || tk.ApproverID != mgrID || tk.DecidedByID == nil || *tk.DecidedByID != dccID || tk.ActingFor == nil || *tk.ActingFor != mgrID {
		t.Fatalf("after the delegate approved: %+v", d)
	}
	if h := d.History[len(d.History)-1]; h.ActingForID == nil || *h.ActingForID != mgrID || h.ActingForName == "" {
		t.Errorf("history does not say for whom: %+v", h)
	}
	if n := env.count(`SELECT count(*) FROM timeline_event WHERE entity_id = ? AND kind = 'approval.approved' AND json_extract(data, '$.actingFor') <> ''`, inst.ID); n != 1 {
		t.Errorf("timeline does not record the delegation")
	}
	// Having decided it, the delegate may still read it.
	getDetail(t, dcc, inst.ID)

	// Back from leave: the delegate's right ends.
	env.Clock.Advance(5 * time.Hour)
	dcc = env.As("dcc")
	apptest.ExpectErr(t, act(dcc, first.ID, "approve", ""), http.StatusNotFound, "not_found")
	if box := getInbox(t, dcc); box.Total != 0 {
		t.Errorf("delegate's inbox has %d after the absence", box.Total)
	}
}

// TestDelegation_TheSubmitterCannotApproveAsDelegate.
func TestDelegation_TheSubmitterCannotApproveAsDelegate(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	mgrID := env.UserID("sales_manager")
	now := env.Clock.Now()
	env.As("sales_manager").Do("POST", fmt.Sprintf("/users/%d/absences", mgrID), map[string]any{"fromAt": now.Add(-time.Hour).UnixMilli(), "untilAt": now.Add(4 * time.Hour).UnixMilli(), "delegateId": env.UserID("sales")}).Expect(t, 201)
	inst := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	sales := env.As("sales")
	if n := env.notesTo("sales", "approval.pending", inst.ID); n != 0 {
		t.Errorf("the submitter was asked to approve their own document as delegate")
	}
	if box := getInbox(t, sales); box.Total != 0 {
		t.Errorf("own document in the inbox")
	}
	apptest.ExpectErr(t, act(sales, inst.ID, "approve", ""), http.StatusForbidden, "approval.own_document")
}

// TestReminders_AtMostOncePerCountAcrossRunsAndClockJumps.
func TestReminders_AtMostOncePerCountAcrossRunsAndClockJumps(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	inst := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	run := func(want int) {
		t.Helper()
		n, err := env.App.Approval.RemindDue(t.Context())
		if err != nil || n != want {
			t.Fatalf("RemindDue = %d, %v; want %d", n, err, want)
		}
	}
	run(0)
	env.Clock.Advance(3*time.Hour + 59*time.Minute)
	run(0)
	env.Clock.Advance(time.Minute) // 4 h
	run(1)
	run(0)                             // same minute again: nothing
	env.Clock.Advance(100 * time.Hour) // a clock jump: one reminder, not a burst
	run(1)
	run(0)
	env.Clock.Advance(4 * time.Hour)
	run(1) // the third and last
	env.Clock.Advance(40 * time.Hour)
	run(0)
	if n := env.notesTo("sales_manager", "approval.reminder", inst.ID); n != 3 {
		t.Errorf("%d reminders, want 3", n)
	}
	if n := env.count(`SELECT reminded_count FROM approval_task WHERE instance_id = ?`, inst.ID); n != 3 {
		t.Errorf("reminded_count %d, want 3", n)
	}
}

// TestReminders_StoreSettingAndDecidedTasks: a store's own interval applies; a
// decided task is never reminded.
func TestReminders_StoreSettingAndDecidedTasks(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	if _, err := env.App.DB.W.Exec(`INSERT INTO setting (key, store_id, value, updated_at) VALUES ('approval', 1, '{"remindHours":1}', 1)`); err != nil {
		t.Fatal(err)
	}
	a := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	b := env.mustSubmit("sales_NB011", env.doc("sales_NB011", 1, "other"))
	env.Clock.Advance(time.Hour)
	if n, err := env.App.Approval.RemindDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("after 1 h: %d reminders, %v; want store 1's only", n, err)
	}
	if env.notesTo("sales_manager", "approval.reminder", a.ID) != 1 || env.notesTo("sales_manager_NB011", "approval.reminder", b.ID) != 0 {
		t.Errorf("the store setting was not applied per store")
	}
	act(env.As("sales_manager"), a.ID, "approve", "").Expect(t, 200)
	env.Clock.Advance(3 * time.Hour)
	if n, err := env.App.Approval.RemindDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("after 4 h: %d reminders, %v; want store 2's first only", n, err)
	}
}
